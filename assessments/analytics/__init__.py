"""Results analytics: item analysis, dashboards, reports and exports (app label ``analytics``)."""
