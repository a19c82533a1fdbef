"""Grid meters: Shelly Pro 3EM, Pro EM / EM Gen3, 3EM Gen1, behind one interface returning typed samples."""
