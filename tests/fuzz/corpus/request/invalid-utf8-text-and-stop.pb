

user
bad Ã( utf8BsÀ¯p