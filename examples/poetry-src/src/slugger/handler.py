from importlib.metadata import version

from slugify import slugify


def handler(event, context):
    return {"slug": slugify(event.get("title", "Hello, World")),
            "python-slugify": version("python-slugify"), "text-unidecode": version("text-unidecode")}
