"""A story told a few words at a time, to show a streamed answer."""

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()


def words(topic: str):
    for word in f"Once upon a time there was a {topic} who slept well.".split():
        yield word + " "


@app.post("/story")
async def story(topic: str = "cat") -> StreamingResponse:
    return StreamingResponse(words(topic), media_type="text/plain")
