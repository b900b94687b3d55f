"""The business address the carrier tests save as the account's Address."""

from switchboard.carrier import PostalAddress

CLINIC_ADDRESS = PostalAddress(customer_name="Maple Family Clinic LLC", street="200 W Madison St", city="Chicago",
                               region="IL", postal_code="60606", iso_country="US", street_secondary="Suite 400",
                               friendly_name="Maple Family Clinic")
