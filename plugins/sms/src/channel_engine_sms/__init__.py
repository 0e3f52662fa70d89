"""SMS and LMS channels."""
