"""The ledger contract both sides share: names, `flex_src`, archive file names, the run log.

importers/ writes these and engine/, reports/ read them; neither side imports the other, only this.
"""
