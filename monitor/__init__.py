"""doxwatch."""
