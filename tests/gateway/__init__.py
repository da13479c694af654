"""Tests of the gateway daemon core."""
