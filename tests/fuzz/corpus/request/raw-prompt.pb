$<start_of_turn>user
Hi<end_of_turn>
