"""What a solve gives: the tidy tables and summary, results by installation, the checks that
test the policy from those tables, and writing them safely to a folder."""
