"""The journeys' world: the shop's files, its customers in their chats, and the chats themselves."""
