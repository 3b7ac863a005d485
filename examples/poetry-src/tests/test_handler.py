from slugger.handler import handler


def test_slug():
    assert handler({"title": "Déjà Vu!"}, None)["slug"] == "deja-vu"
