"""HL7 v2 to the hospital: ORU^R01 messages (IHE PCD-01) and their MLLP sender."""
