"""Measuring samples against their input: the measures (``metrics``), the feature network behind the
SIFID-style distance (``features``), scoring a set of samples (``scores``), and time and memory
(``resources``)."""
