"""The delinquency domain engine: schedules, overdue positions, penalty interest and the rules
later stages call (repayment plans, waiver authority, legal cost-benefit).

Nothing here imports boto3 or any AWS SDK; money is ``decimal.Decimal`` throughout.
"""
