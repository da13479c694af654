"""Who may do what: users, tokens and roles, gateway enrolment and keys, the district/site/room directory."""
