from reports.handler import handler


def test_table():
    assert "1.0 kB" in handler({"files": {"a.txt": 1000}}, None)["table"]
