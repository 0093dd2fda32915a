

user
Hello there333?(%fff?8B
Bend