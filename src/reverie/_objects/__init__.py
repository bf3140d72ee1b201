"""Structured output, the pure core: schemas, validation, partial parsing and results.

``schema`` turns a type or a JSON-schema dict into the schema sent on the wire and the
validator of the reply; ``partial`` parses a growing JSON text into partial objects at a
linear total cost; ``plan`` turns an object request into a ``Call`` and folds the model's
response or stream parts into an ``ObjectResult``; ``results`` holds the public result
and stream-part types. No I/O here: the drivers live in ``reverie._async.objects`` (and
its generated sync twin). pydantic is imported only when a type's schema is first built.
"""
