"""The Beancount side of beanflex: lots, P&L, marks, labels and reconciliation as pure functions over loaded
entries. The plugins and the reports call it; it never imports them, nor importers/."""
