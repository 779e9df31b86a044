"""The classic single-video methods, on frames: Video Textures, seamless loops and cinemagraphs
(``loops``), space-time Poisson solvers and blending (``poisson``)."""
