"""Pure governance decisions: plain Python over plain data, no AWS calls, no I/O.

The Lambdas, the pipeline template and the tests call these functions; they are what makes
the rules identical everywhere and testable exhaustively.
"""
