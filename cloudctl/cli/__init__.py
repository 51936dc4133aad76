"""The thin command-line shell: parse, call the library, render. No business logic here."""
