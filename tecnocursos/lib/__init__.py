"""Plain helpers with no domain and no Django: the embedded Redis, Redis URLs, timestamps."""
