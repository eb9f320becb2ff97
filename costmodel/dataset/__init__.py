"""Dataset generation and labelling for the cost model (see ``build.build`` and ``labellers``)."""
