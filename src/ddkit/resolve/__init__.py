"""Resolve: turn raw git identities into people, match them to the roster and classify them."""
