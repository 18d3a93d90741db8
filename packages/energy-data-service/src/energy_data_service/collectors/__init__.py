"""Fetching from the ENTSO-E platform (thin layer over ``entsoe_client``)."""
