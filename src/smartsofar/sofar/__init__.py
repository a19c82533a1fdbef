"""The Sofar ME3000SP: its registers, its status words and its passive-mode commands."""
