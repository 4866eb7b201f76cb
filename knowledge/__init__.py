"""The heart of Parley: articles in, passages and vectors stored, questions answered."""
