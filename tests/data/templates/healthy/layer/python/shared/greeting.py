def greet(stage):
    return f"hello from {stage}"
