"""The main job, offline: one governance lifecycle on the embedded AWS, ending with an evidence report."""
