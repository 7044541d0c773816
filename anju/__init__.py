"""Infrastructure below every app (it imports none of them): where a query reads from."""
