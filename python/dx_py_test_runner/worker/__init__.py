"""The worker process: runs the tests the orchestrator sends it and answers with results."""
