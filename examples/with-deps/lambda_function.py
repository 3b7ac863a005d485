from pydantic import BaseModel, PositiveFloat


class Rectangle(BaseModel):
    length: PositiveFloat
    width: PositiveFloat


def lambda_handler(event, context):
    rectangle = Rectangle.model_validate(event)
    return {"area": rectangle.length * rectangle.width}
