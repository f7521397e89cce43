print("verityd")
