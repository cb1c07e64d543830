"""What beanflex knows of the Flex format: sections, row elements, attributes and enum values (facts only).

Built from the public sample statements (tests/fixtures/flex-public and ../shared/fixtures/flex-public; see
/work/shared/flex-schema.md) plus field names IBKR documents (as mirrored by ibflex's type definitions) where the
samples are thin: the OptionEAE fields, and the row elements of sections the samples only show empty. Anything
outside these tables is reported as drift (a warning in `beanflex check` and the run record), never a crash.
Add to the tables when IBKR adds fields; the schema-drift test shows what each public sample still reports.
"""

from __future__ import annotations


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Row attributes seen per (section, element); the FlexStatement's own attributes are listed separately.
KNOWN_ATTRIBUTES: dict[tuple[str, str], frozenset[str]] = {
    ("AccountInformation", "AccountInformation"): _names(
        "accountCapabilities accountId accountRepName accountRepPhone accountType acctAlias city "
        "cityResidentialAddress country countryResidentialAddress currency customerType dateClosed dateFunded "
        "dateOpened ibEntity lastTradedDate masterName model name postalCode postalCodeResidentialAddress "
        "primaryEmail state stateResidentialAddress street street2 street2ResidentialAddress "
        "streetResidentialAddress tradingPermissions "
    ),
    ("CashReport", "CashReportCurrency"): _names(
        "accountId accountTransfers accountTransfersCom accountTransfersMTD accountTransfersSec "
        "accountTransfersYTD acctAlias advisorFees advisorFeesCom advisorFeesMTD advisorFeesSec advisorFeesYTD "
        "billableCommissions billableCommissionsCom billableCommissionsMTD billableCommissionsSec "
        "billableCommissionsYTD billableSalesTax billableSalesTaxCom billableSalesTaxMTD billableSalesTaxSec "
        "billableSalesTaxYTD billPay billPayCom billPayMTD billPaySec billPayYTD bondInterest bondInterestCom "
        "bondInterestMTD bondInterestSec bondInterestYTD brokerFees brokerFeesCom brokerFeesMTD brokerFeesSec "
        "brokerFeesYTD brokerInterest brokerInterestCom brokerInterestMTD brokerInterestSec brokerInterestYTD "
        "carbonCredits carbonCreditsCom carbonCreditsMTD carbonCreditsSec carbonCreditsYTD cashSettlingMtm "
        "cashSettlingMtmCom cashSettlingMtmMTD cashSettlingMtmSec cashSettlingMtmYTD cfdCharges cfdChargesCom "
        "cfdChargesMTD cfdChargesSec cfdChargesYTD clientFees clientFeesCom clientFeesMTD clientFeesSec "
        "clientFeesYTD commissionCreditsRedemption commissionCreditsRedemptionCom commissionCreditsRedemptionMTD "
        "commissionCreditsRedemptionSec commissionCreditsRedemptionYTD commissions commissionsCom commissionsMTD "
        "commissionsSec commissionsYTD currency debitCardActivity debitCardActivityCom debitCardActivityMTD "
        "debitCardActivitySec debitCardActivityYTD deposits depositsCom depositsMTD depositsSec depositsYTD "
        "depositWithdrawals depositWithdrawalsCom depositWithdrawalsMTD depositWithdrawalsSec "
        "depositWithdrawalsYTD dividends dividendsCom dividendsMTD dividendsSec dividendsYTD donations "
        "donationsCom donationsMTD donationsSec donationsYTD endingCash endingCashCom endingCashSec "
        "endingSettledCash endingSettledCashCom endingSettledCashSec excessFundSweep excessFundSweepCom "
        "excessFundSweepMTD excessFundSweepSec excessFundSweepYTD feesReceivables feesReceivablesCom "
        "feesReceivablesMTD feesReceivablesSec feesReceivablesYTD fromDate fxTranslationGainLoss "
        "fxTranslationGainLossCom fxTranslationGainLossSec insuredDepositInterest insuredDepositInterestCom "
        "insuredDepositInterestMTD insuredDepositInterestSec insuredDepositInterestYTD internalTransfers "
        "internalTransfersCom internalTransfersMTD internalTransfersSec internalTransfersYTD ipoSubscription "
        "ipoSubscriptionCom ipoSubscriptionMTD ipoSubscriptionSec ipoSubscriptionYTD levelOfDetail "
        "linkingAdjustments linkingAdjustmentsCom linkingAdjustmentsSec model netTradesPurchases "
        "netTradesPurchasesCom netTradesPurchasesMTD netTradesPurchasesSec netTradesPurchasesYTD netTradesSales "
        "netTradesSalesCom netTradesSalesMTD netTradesSalesSec netTradesSalesYTD other otherCom otherFees "
        "otherFeesCom otherFeesMTD otherFeesSec otherFeesYTD otherIncome otherIncomeCom otherIncomeSec otherSec "
        "paxosTransfers paxosTransfersCom paxosTransfersMTD paxosTransfersSec paxosTransfersYTD paymentInLieu "
        "paymentInLieuCom paymentInLieuMTD paymentInLieuSec paymentInLieuYTD realizedForexVm realizedForexVmCom "
        "realizedForexVmMTD realizedForexVmSec realizedForexVmYTD realizedVm realizedVmCom realizedVmMTD "
        "realizedVmSec realizedVmYTD referralFee referralFeeCom referralFeeMTD referralFeeSec referralFeeYTD "
        "salesTax salesTaxCom salesTaxMTD salesTaxSec salesTaxYTD slbEndingCashCollateral "
        "slbEndingCashCollateralCom slbEndingCashCollateralSec slbNetCash slbNetCashCom slbNetCashSec "
        "slbNetSecuritiesLentActivity slbNetSecuritiesLentActivityCom slbNetSecuritiesLentActivitySec "
        "slbNetSettledCash slbNetSettledCashCom slbNetSettledCashSec slbStartingCashCollateral "
        "slbStartingCashCollateralCom slbStartingCashCollateralSec startingCash startingCashCom startingCashSec "
        "taxReceivables taxReceivablesCom taxReceivablesMTD taxReceivablesSec taxReceivablesYTD toDate "
        "transactionTax transactionTaxCom transactionTaxMTD transactionTaxSec transactionTaxYTD withdrawals "
        "withdrawalsCom withdrawalsMTD withdrawalsSec withdrawalsYTD withholding871m withholding871mCom "
        "withholding871mMTD withholding871mSec withholding871mYTD withholdingCollectedTax "
        "withholdingCollectedTaxCom withholdingCollectedTaxMTD withholdingCollectedTaxSec "
        "withholdingCollectedTaxYTD withholdingTax withholdingTaxCom withholdingTaxMTD withholdingTaxSec "
        "withholdingTaxYTD "
    ),
    ("CashTransactions", "CashTransaction"): _names(
        "accountId acctAlias actionID amount assetCategory availableForTradingDate clientReference code "
        "commodityType conid currency cusip dateTime deliveryType description exDate expiry figi fineness "
        "fxRateToBase isin issuer issuerCountryCode levelOfDetail listingExchange model multiplier "
        "principalAdjustFactor putCall reportDate securityID securityIDType serialNumber settleDate strike "
        "subCategory symbol tradeID transactionID type underlyingConid underlyingListingExchange "
        "underlyingSecurityID underlyingSymbol weight "
    ),
    ("ChangeInDividendAccruals", "ChangeInDividendAccrual"): _names(
        "accountId acctAlias assetCategory code conid currency cusip date description exDate expiry fee fromAcct "
        "fxRateToBase grossAmount grossRate isin issuer listingExchange model multiplier netAmount payDate "
        "principalAdjustFactor putCall quantity reportDate securityID securityIDType strike subCategory symbol "
        "tax toAcct underlyingConid underlyingListingExchange underlyingSecurityID underlyingSymbol "
    ),
    ("ConversionRates", "ConversionRate"): _names(
        "fromCurrency rate reportDate toCurrency "
    ),
    ("CorporateActions", "CorporateAction"): _names(
        "accountId acctAlias actionDescription actionID actionType amount assetCategory code commodityType conid "
        "currency cusip dateTime deliveryType description expiry fifoPnlRealized fineness fxRateToBase isin "
        "issuer levelOfDetail listingExchange model mtmPnl multiplier principalAdjustFactor proceeds putCall "
        "quantity reportDate securityID securityIDType serialNumber strike symbol transactionID type "
        "underlyingConid underlyingListingExchange underlyingSecurityID underlyingSymbol value weight "
    ),
    ("EquitySummaryInBase", "EquitySummaryByReportDateInBase"): _names(
        "accountId acctAlias bondInterestAccrualsComponent bondInterestAccrualsComponentLong "
        "bondInterestAccrualsComponentShort bonds bondsLong bondsShort brokerCashComponent brokerCashComponentLong "
        "brokerCashComponentShort brokerFeesAccrualsComponent brokerFeesAccrualsComponentLong "
        "brokerFeesAccrualsComponentShort brokerInterestAccrualsComponent brokerInterestAccrualsComponentLong "
        "brokerInterestAccrualsComponentShort cash cashLong cashShort cfdUnrealizedPl cfdUnrealizedPlLong "
        "cfdUnrealizedPlShort commodities commoditiesLong commoditiesShort crypto cryptoLong cryptoShort currency "
        "dividendAccruals dividendAccrualsLong dividendAccrualsShort eventContractInterestAccruals "
        "eventContractInterestAccrualsLong eventContractInterestAccrualsShort fdicInsuredAccountInterestAccruals "
        "fdicInsuredAccountInterestAccrualsComponent fdicInsuredAccountInterestAccrualsComponentLong "
        "fdicInsuredAccountInterestAccrualsComponentShort fdicInsuredAccountInterestAccrualsLong "
        "fdicInsuredAccountInterestAccrualsShort fdicInsuredBankSweepAccount "
        "fdicInsuredBankSweepAccountCashComponent fdicInsuredBankSweepAccountCashComponentLong "
        "fdicInsuredBankSweepAccountCashComponentShort fdicInsuredBankSweepAccountLong "
        "fdicInsuredBankSweepAccountShort forexCfdUnrealizedPl forexCfdUnrealizedPlLong forexCfdUnrealizedPlShort "
        "funds fundsLong fundsShort incentiveCouponAccruals incentiveCouponAccrualsLong "
        "incentiveCouponAccrualsShort insuredBankDepositRedemptionCashComponent "
        "insuredBankDepositRedemptionCashComponentLong insuredBankDepositRedemptionCashComponentShort "
        "interestAccruals interestAccrualsLong interestAccrualsShort ipoSubscription ipoSubscriptionLong "
        "ipoSubscriptionShort liteSurchargeAccruals marginFinancingChargeAccruals "
        "marginFinancingChargeAccrualsLong marginFinancingChargeAccrualsShort model notes notesLong notesShort "
        "options optionsLong optionsShort physDel physDelLong physDelShort reportDate slbCashCollateral "
        "slbCashCollateralLong slbCashCollateralShort slbDirectSecuritiesBorrowed slbDirectSecuritiesBorrowedLong "
        "slbDirectSecuritiesBorrowedShort slbDirectSecuritiesLent slbDirectSecuritiesLentLong "
        "slbDirectSecuritiesLentShort softDollars softDollarsLong softDollarsShort stock stockLong stockShort "
        "total totalLong totalShort "
    ),
    ("ChangeInNAV", "ChangeInNAV"): _names(
        "accountId acctAlias advisorFees assetTransfers billPay billableSalesTax brokerFees "
        "carbonCredits changeInBrokerFeeAccruals changeInDividendAccruals changeInIncentiveCouponAccruals "
        "changeInInterestAccruals changeInUnrealized clientFees commissionCreditsRedemption commissionReceivables "
        "commissions commissionsAtPaxos corporateActionProceeds costAdjustments currency debitCardActivity "
        "depositsWithdrawals dividends donations endingValue excessFundSweep feesReceivables forexCommissions "
        "fromDate fxTranslation grantActivity interest internalCashTransfers linkingAdjustments model mtm "
        "mtmAtPaxos netFxTrading other otherFees otherIncome paxosTransfers realized referralFee salesTax "
        "softDollars startingValue taxReceivables toDate transactionTax transferredPnlAdjustments twr "
        "withholding871m withholdingTax withholdingTaxCollected "
    ),
    ("FIFOPerformanceSummaryInBase", "FIFOPerformanceSummaryUnderlying"): _names(
        "accountId assetCategory conid costAdj description expiry model realizedLTLoss realizedLTProfit "
        "realizedSTLoss realizedSTProfit symbol totalCapitalGainsPnl totalFifoPnl totalFxPnl "
        "totalRealizedCapitalGainsPnl totalRealizedFxPnl totalRealizedPnl totalUnrealizedCapitalGainsPnl "
        "totalUnrealizedFxPnl totalUnrealizedPnl transferredCapitalGainsPnl transferredFxPnl transferredPnl "
        "unrealizedLoss unrealizedLTLoss unrealizedLTProfit unrealizedProfit unrealizedSTLoss unrealizedSTProfit "
    ),
    ("FxPositions", "FxPosition"): _names(
        "accountId acctAlias fxCurrency quantity reportDate value "
    ),
    ("FxTransactions", "FxTransaction"): _names(
        "accountId acctAlias activityDescription assetCategory code cost dateTime functionalCurrency fxCurrency "
        "levelOfDetail proceeds quantity realizedPL reportDate "
    ),
    ("InterestAccruals", "InterestAccrualsCurrency"): _names(
        "accountId accrualReversal acctAlias currency endingAccrualBalance fromDate fxTranslation interestAccrued "
        "model startingAccrualBalance toDate "
    ),
    ("NetStockPositionSummary", "NetStockPosition"): _names(
        "accountId acctAlias assetCategory currency cusip description isin issuer issuerCountryCode netShares "
        "reportDate securityID securityIDType sharesAtIb subCategory symbol "
    ),
    ("OpenDividendAccruals", "OpenDividendAccrual"): _names(
        "accountId acctAlias assetCategory code conid currency cusip description exDate expiry fee fromAcct "
        "fxRateToBase grossAmount grossRate isin issuer listingExchange model multiplier netAmount payDate "
        "principalAdjustFactor putCall quantity securityID securityIDType strike symbol tax toAcct "
        "underlyingConid underlyingListingExchange underlyingSecurityID underlyingSymbol "
    ),
    ("OpenPositions", "OpenPosition"): _names(
        "accountId accruedInt acctAlias assetCategory code commodityType conid costBasisMoney costBasisPrice "
        "currency cusip deliveryType description expiry fifoPnlUnrealized figi fineness fxRateToBase "
        "holdingPeriodDateTime isin issuer issuerCountryCode levelOfDetail listingExchange markPrice model "
        "multiplier openDateTime openPrice originatingOrderID originatingTransactionID percentOfNAV position "
        "positionValue principalAdjustFactor putCall reportDate securityID securityIDType serialNumber side "
        "strike subCategory symbol underlyingConid underlyingListingExchange underlyingSecurityID "
        "underlyingSymbol vestingDate weight "
    ),
    ("OptionEAE", "OptionEAE"): _names(
        "accountId acctAlias assetCategory commisionsAndTax conid costBasis currency cusip date description "
        "expiry fxPnl fxRateToBase isin issuer listingExchange markPrice model mtmPnl multiplier "
        "principalAdjustFactor proceeds putCall quantity realizedPnl securityID securityIDType strike subCategory "
        "symbol tradeID tradePrice transactionType underlyingConid underlyingListingExchange underlyingSecurityID "
        "underlyingSymbol "
    ),
    ("PriorPeriodPositions", "PriorPeriodPosition"): _names(
        "accountId acctAlias currency cusip date description figi fxRateToBase isin model price securityID "
        "securityIDType symbol "
    ),
    ("SLBFees", "SLBFee"): _names(
        "accountId acctAlias assetCategory carryCharge code collateralAmount conid currency cusip description "
        "exchange expiry fee feeRate fromAcct fxRateToBase grossLendFee isin issuer listingExchange marketFeeRate "
        "model multiplier netLendFee netLendFeeRate principalAdjustFactor putCall quantity securityID "
        "securityIDType startDate strike symbol ticketCharge toAcct totalCharges type underlyingConid "
        "underlyingListingExchange underlyingSecurityID underlyingSymbol valueDate "
    ),
    ("SecuritiesInfo", "SecurityInfo"): _names(
        "assetCategory code commodityType conid currency cusip deliveryType description expiry figi fineness isin "
        "issueDate issuer issuerCountryCode listingExchange maturity multiplier principalAdjustFactor putCall "
        "securityID securityIDType serialNumber settlementPolicyMethod strike subCategory symbol "
        "underlyingCategory underlyingConid underlyingListingExchange underlyingSecurityID underlyingSymbol "
        "weight "
    ),
    ("StmtFunds", "StatementOfFundsLine"): _names(
        "accountId acctAlias activityCode activityDescription amount assetCategory balance buySell conid credit "
        "currency cusip date debit description expiry fxRateToBase isin issuer levelOfDetail listingExchange "
        "model multiplier orderID principalAdjustFactor putCall reportDate securityID securityIDType settleDate "
        "strike symbol tradeCode tradeCommission tradeGross tradeID tradePrice tradeQuantity tradeTax "
        "underlyingConid underlyingListingExchange underlyingSecurityID underlyingSymbol "
    ),
    ("TradeConfirms", "TradeConfirm"): _names(
        "accountId accruedInt acctAlias allocatedTo amount assetCategory brokerageOrderID "
        "brokerClearingCommission brokerExecutionCommission buySell clearingFirmID code commission "
        "commissionCurrency conid currency cusip dateTime description exchange execID expiry isAPIOrder isin "
        "issuer levelOfDetail listingExchange model multiplier orderID orderReference orderTime orderType "
        "origTradeDate origTradeID origTradePrice otherCommission price principalAdjustFactor proceeds putCall "
        "quantity reportDate securityID securityIDType settleDate strike symbol tax thirdPartyClearingCommission "
        "thirdPartyExecutionCommission thirdPartyRegulatoryCommission tradeDate tradeID traderID transactionType "
        "underlyingConid underlyingListingExchange underlyingSecurityID underlyingSymbol volatilityOrderLink "
    ),
    ("Trades", "AssetSummary"): _names(
        "accountId accruedInt acctAlias assetCategory brokerageOrderID buySell changeInPrice changeInQuantity "
        "clearingFirmID closePrice commodityType conid cost currency cusip dateTime deliveryType description "
        "exchange exchOrderId expiry extExecID fifoPnlRealized figi fineness fxPnl fxRateToBase "
        "holdingPeriodDateTime ibCommission ibCommissionCurrency ibExecID ibOrderID initialInvestment isAPIOrder "
        "isin issuer issuerCountryCode levelOfDetail listingExchange model mtmPnl multiplier netCash notes "
        "openCloseIndicator openDateTime orderReference orderTime orderType origOrderID origTradeDate origTradeID "
        "origTradePrice origTransactionID principalAdjustFactor proceeds putCall quantity relatedTradeID "
        "relatedTransactionID reportDate rtn securityID securityIDType serialNumber settleDateTarget strike "
        "subCategory symbol taxes tradeDate tradeID tradeMoney tradePrice traderID transactionID transactionType "
        "underlyingConid underlyingListingExchange underlyingSecurityID underlyingSymbol volatilityOrderLink "
        "weight whenRealized whenReopened "
    ),
    ("Trades", "Lot"): _names(
        "accountId accruedInt acctAlias assetCategory brokerageOrderID buySell changeInPrice changeInQuantity "
        "clearingFirmID closePrice commodityType conid cost currency cusip dateTime deliveryType description "
        "exchange exchOrderId expiry extExecID fifoPnlRealized fineness fxPnl fxRateToBase holdingPeriodDateTime "
        "ibCommission ibCommissionCurrency ibExecID ibOrderID isAPIOrder isin issuer levelOfDetail "
        "listingExchange model mtmPnl multiplier netCash notes openCloseIndicator openDateTime orderReference "
        "orderTime orderType origOrderID origTradeDate origTradeID origTradePrice principalAdjustFactor proceeds "
        "putCall quantity reportDate securityID securityIDType serialNumber settleDateTarget strike subCategory "
        "symbol taxes tradeDate tradeID tradeMoney tradePrice traderID transactionID transactionType "
        "underlyingConid underlyingListingExchange underlyingSecurityID underlyingSymbol volatilityOrderLink "
        "weight whenRealized whenReopened "
    ),
    ("Trades", "Order"): _names(
        "accountId accruedInt acctAlias assetCategory brokerageOrderID buySell changeInPrice changeInQuantity "
        "clearingFirmID closePrice commodityType conid cost currency cusip dateTime deliveryType description "
        "exchange exchOrderId expiry extExecID fifoPnlRealized fineness fxPnl fxRateToBase holdingPeriodDateTime "
        "ibCommission ibCommissionCurrency ibExecID ibOrderID isAPIOrder isin issuer levelOfDetail "
        "listingExchange model mtmPnl multiplier netCash notes openCloseIndicator openDateTime orderReference "
        "orderTime orderType origOrderID origTradeDate origTradeID origTradePrice principalAdjustFactor proceeds "
        "putCall quantity reportDate securityID securityIDType serialNumber settleDateTarget strike symbol taxes "
        "tradeDate tradeID tradeMoney tradePrice traderID transactionID transactionType underlyingConid "
        "underlyingListingExchange underlyingSecurityID underlyingSymbol volatilityOrderLink weight whenRealized "
        "whenReopened "
    ),
    ("Trades", "SymbolSummary"): _names(
        "accountId accruedInt acctAlias assetCategory brokerageOrderID buySell changeInPrice changeInQuantity "
        "clearingFirmID closePrice commodityType conid cost currency cusip dateTime deliveryType description "
        "exchange exchOrderId expiry extExecID fifoPnlRealized figi fineness fxPnl fxRateToBase "
        "holdingPeriodDateTime ibCommission ibCommissionCurrency ibExecID ibOrderID initialInvestment isAPIOrder "
        "isin issuer issuerCountryCode levelOfDetail listingExchange model mtmPnl multiplier netCash notes "
        "openCloseIndicator openDateTime orderReference orderTime orderType origOrderID origTradeDate origTradeID "
        "origTradePrice origTransactionID principalAdjustFactor proceeds putCall quantity relatedTradeID "
        "relatedTransactionID reportDate rtn securityID securityIDType serialNumber settleDateTarget strike "
        "subCategory symbol taxes tradeDate tradeID tradeMoney tradePrice traderID transactionID transactionType "
        "underlyingConid underlyingListingExchange underlyingSecurityID underlyingSymbol volatilityOrderLink "
        "weight whenRealized whenReopened "
    ),
    ("Trades", "Trade"): _names(
        "accountId accruedInt acctAlias assetCategory brokerageOrderID buySell changeInPrice changeInQuantity "
        "clearingFirmID closePrice commodityType conid cost currency cusip dateTime deliveryType description "
        "exchange exchOrderId expiry extExecID fifoPnlRealized figi fineness fxPnl fxRateToBase "
        "holdingPeriodDateTime ibCommission ibCommissionCurrency ibExecID ibOrderID initialInvestment isAPIOrder "
        "isin issuer issuerCountryCode levelOfDetail listingExchange model mtmPnl multiplier netCash notes "
        "openCloseIndicator openDateTime orderPlacementTime orderReference orderTime orderType origOrderID "
        "origTradeDate origTradeID origTradePrice origTransactionID positionActionID principalAdjustFactor "
        "proceeds putCall quantity relatedTradeID relatedTransactionID reportDate rtn securityID securityIDType "
        "serialNumber settleDateTarget strike subCategory symbol taxes tradeDate tradeID tradeMoney tradePrice "
        "traderID tradeTime transactionID transactionType underlyingConid underlyingListingExchange "
        "underlyingSecurityID underlyingSymbol volatilityOrderLink weight whenRealized whenReopened "
    ),
    ("Transfers", "Transfer"): _names(
        "account accountId accountName acctAlias assetCategory cashTransfer clientReference code company conid "
        "currency cusip date dateTime deliveringBroker description direction expiry fxPnl fxRateToBase isin "
        "issuer levelOfDetail listingExchange model multiplier pnlAmount pnlAmountInBase positionAmount "
        "positionAmountInBase principalAdjustFactor putCall quantity reportDate securityID securityIDType "
        "settleDate strike subCategory symbol transactionID transferPrice type underlyingConid "
        "underlyingListingExchange underlyingSecurityID underlyingSymbol "
    ),
}

#: Sections seen in public statements (many only as empty elements, e.g. in eTax) and their row elements.
KNOWN_SECTIONS: dict[str, frozenset[str]] = {
    "AccountInformation": frozenset({"AccountInformation"}),
    "CFDCharges": frozenset(),
    "CashReport": frozenset({"CashReportCurrency"}),
    "ChangeInNAV": frozenset({"ChangeInNAV"}),
    "ChangeInPositionValues": frozenset({"ChangeInPositionValue"}),
    "CashTransactions": frozenset({"CashTransaction"}),
    "ChangeInDividendAccruals": frozenset({"ChangeInDividendAccrual"}),
    "ComplexPositions": frozenset({"ComplexPosition"}),
    "ConversionRates": frozenset({"ConversionRate"}),
    "CorporateActions": frozenset({"CorporateAction"}),
    "DepositsOnHold": frozenset(),
    "EquitySummaryInBase": frozenset({"EquitySummaryByReportDateInBase"}),
    "FIFOPerformanceSummaryInBase": frozenset({"FIFOPerformanceSummaryUnderlying"}),
    "FxPositions": frozenset({"FxPosition"}),
    "FxTransactions": frozenset({"FxTransaction"}),
    "HKIPOOpenSubscriptions": frozenset(),
    "HKIPOSubscriptionActivity": frozenset(),
    "HardToBorrowDetails": frozenset({"HardToBorrowDetail"}),
    "IBGNoteTransactions": frozenset(),
    "IncentiveCouponAccrualDetails": frozenset(),
    "InterestAccruals": frozenset({"InterestAccrualsCurrency"}),
    "MTDYTDPerformanceSummary": frozenset({"MTDYTDPerformanceSummaryUnderlying"}),
    "MTMPerformanceSummaryInBase": frozenset({"MTMPerformanceSummaryUnderlying"}),
    "NetStockPositionSummary": frozenset({"NetStockPosition"}),
    "OpenDividendAccruals": frozenset({"OpenDividendAccrual"}),
    "OpenPositions": frozenset({"OpenPosition"}),
    "OptionEAE": frozenset({"OptionEAE"}),
    "PriorPeriodPositions": frozenset({"PriorPeriodPosition"}),
    "RoutingCommissions": frozenset({"RoutingCommission"}),
    "SLBActivities": frozenset({"SLBActivity"}),
    "SLBCollaterals": frozenset(),
    "SLBFees": frozenset({"SLBFee"}),
    "SLBOpenContracts": frozenset({"SLBOpenContract"}),
    "SalesTaxes": frozenset({"SalesTax"}),
    "SecuritiesInfo": frozenset({"SecurityInfo"}),
    "StmtFunds": frozenset({"StatementOfFundsLine"}),
    "TierInterestDetails": frozenset({"TierInterestDetail"}),
    "TradeConfirms": frozenset({"TradeConfirm"}),
    "TradeTransfers": frozenset({"TradeTransfer"}),
    "Trades": frozenset({"AssetSummary", "Lot", "Order", "SymbolSummary", "Trade"}),
    "TransactionTaxes": frozenset({"TransactionTax"}),
    "Transfers": frozenset({"Transfer"}),
    "UnbookedTrades": frozenset(),
    "UnbundledCommissionDetails": frozenset({"UnbundledCommissionDetail"}),
    "UnsettledTransfers": frozenset(),
}


#: The attributes of <FlexStatement> and <FlexQueryResponse> themselves.
STATEMENT_ATTRIBUTES = frozenset({"accountId", "fromDate", "toDate", "period", "whenGenerated"})

#: IBKR's codes in `notes` (Trades) and `code` (most other sections), `;`-separated in the attribute, e.g. "P;AFx".
#: From the samples plus IBKR's Notes/Legend codes (ibflex enums.Code).
CODES = _names(
    "A ADR AEx AFx Adj Al Aw B Bo C Ca Co Cp D Ep Ex FP FPA G HC HFI HFR I IA INV IPO L LD LI LT Lo M MEx ML MLG "
    "MLL MSG MSL O P PI Po Pr R RED Re Ri RP RPA SI SL SO SS ST SY T"
)

#: Attributes that share a name with an enum-like one elsewhere but hold a number here: no value check. In the NAV
#: rows `notes` is the value of the Notes asset class (structured notes), not trade codes.
NOT_ENUM: frozenset[tuple[str, str]] = frozenset({("EquitySummaryByReportDateInBase", "notes")})

#: Known values of enum-like attributes, keyed by (element or "*" for any element, attribute).
KNOWN_VALUES: dict[tuple[str, str], frozenset[str]] = {
    ("*", "assetCategory"): _names("STK OPT FUT FOP CASH BOND BILL WAR CFD FXCFD CMDTY FSFOP FSOPT FUND IOPT CRYPTO"),
    ("*", "putCall"): _names("C P"),
    ("*", "notes"): CODES,
    ("*", "code"): CODES,
    ("Trade", "buySell"): frozenset({"BUY", "SELL", "BUY (Ca.)", "SELL (Ca.)"}),
    ("Trade", "openCloseIndicator"): _names("O C C;O"),
    ("Trade", "transactionType"): _names("ExchTrade BookTrade TradeCancel TradeCorrect FracShare FracShareCancel "
                                         "Adjustment DvpTrade"),
    ("Trade", "levelOfDetail"): _names("EXECUTION CLOSED_LOT ORDER SYMBOL_SUMMARY ASSET_SUMMARY"),
    ("Lot", "levelOfDetail"): _names("CLOSED_LOT"),
    ("OpenPosition", "levelOfDetail"): _names("SUMMARY LOT"),
    ("OpenPosition", "side"): _names("Long Short"),
    ("CashTransaction", "levelOfDetail"): _names("DETAIL SUMMARY"),
    ("CashTransaction", "type"): frozenset({
        "Deposits/Withdrawals", "Deposits & Withdrawals", "Dividends", "Withholding Tax",
        "Payment In Lieu Of Dividends", "Broker Interest Paid", "Broker Interest Received", "Bond Interest Paid",
        "Bond Interest Received", "Other Fees", "Advisor Fees", "Commission Adjustments"}),
    ("CorporateAction", "type"): _names("BC BM CD CP DW FS IC RI RS SD SO SR TC TO"),
    ("OptionEAE", "transactionType"): frozenset({"Assignment", "Exercise", "Expiration", "Cash Settlement", "Buy",
                                                 "Sell"}),
    ("Transfer", "type"): _names("INTERNAL ACATS ATON FOP OTC INTERCOMPANY"),
    ("Transfer", "direction"): _names("IN OUT"),
}


def known_values(tag: str, name: str) -> frozenset[str] | None:
    """The known values of attribute `name` on element `tag` (its own entry, else the "*" one); None: not an enum
    attribute there (NOT_ENUM), or not one anywhere."""
    if (tag, name) in NOT_ENUM:
        return None
    return KNOWN_VALUES.get((tag, name)) or KNOWN_VALUES.get(("*", name))
