"""Authorizer claims of the people tests act as, shaped as API Gateway passes Cognito's."""

ADMIN = {"sub": "admin-1", "email": "admin@clinic.test", "cognito:groups": "admin"}
STAFF = {"sub": "staff-1", "email": "staff@clinic.test", "cognito:groups": "staff"}
