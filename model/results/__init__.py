"""What a solve gives: the tidy tables and summary, results by installation, the checks that
test the policy from those tables, and their notebook views (repr, IAMC long format, xarray);
written to a folder through ``model.files``."""
