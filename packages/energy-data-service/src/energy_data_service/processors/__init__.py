"""Turning ENTSO-E documents into stored points, one processor per document family."""
