"""Container images as Lambda runs them: the size limit, the platforms, the single-platform
manifest, the runtime interface. Read in the AWS Lambda developer guide (and the AWS re:Post answer
on multi-architecture images) on 2026-12-05.
"""

from __future__ import annotations

import datetime as dt

READ = dt.date(2026, 12, 5)

QUOTAS_URL = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"
IMAGES_URL = "https://docs.aws.amazon.com/lambda/latest/dg/images-create.html"
RUNTIMES_IMAGES_URL = "https://docs.aws.amazon.com/lambda/latest/dg/runtimes-images.html"
ARCHITECTURES_URL = "https://docs.aws.amazon.com/lambda/latest/dg/foundation-arch.html"
MULTI_ARCH_URL = ("https://repost.aws/questions/QUIZjd2sL_TtCuoqtg5Q30LA/"
                  "does-lambda-not-support-multi-architecture-container-images-manifests")

# QUOTAS_URL, "Container image code package size": "10 GB (maximum uncompressed image size, including
# all layers)". The same page's units note: "The Lambda documentation, log messages, and console use
# the abbreviation MB (rather than MiB) to refer to 1,024 KB", so GB is 1,024 MB = 2**30 bytes: the
# limit is 10,737,418,240 bytes, counted on the layers uncompressed (a layer's tar, not its gzip).
IMAGE_SIZE_LIMIT_BYTES = 10 * (1 << 30)

# ARCHITECTURES_URL: Lambda runs x86_64 and arm64; an image's config names them the OCI way
# (GOARCH): amd64 and arm64. IMAGES_URL: Lambda runs Linux-based images only.
OCI_ARCHITECTURE = {"x86_64": "amd64", "arm64": "arm64"}
LAMBDA_ARCHITECTURE = {oci: name for name, oci in OCI_ARCHITECTURE.items()}
IMAGE_OS = "linux"

# RUNTIMES_IMAGES_URL (awsdocs aws-lambda-developer-guide, doc_source/runtimes-images.md, 2022-10-31):
# "You need to build the function image for only one architecture. Lambda does not support
# multi-architecture images." The re:Post answer (MULTI_ARCH_URL) adds that Lambda takes single-image
# manifests only: an index (manifest list) is refused with "The image manifest or layer media type for
# the source image ... is not supported", which a `docker buildx` provenance attestation causes too
# (`--provenance=false` avoids it).
INDEX_MEDIA_TYPES = ("application/vnd.oci.image.index.v1+json",
                     "application/vnd.docker.distribution.manifest.list.v2+json")
MANIFEST_MEDIA_TYPES = ("application/vnd.oci.image.manifest.v1+json",
                        "application/vnd.docker.distribution.manifest.v2+json")
# buildx marks its attestation manifests so (platform unknown/unknown).
ATTESTATION_ANNOTATION = "vnd.docker.reference.type"

# IMAGES_URL: the AWS base images are "preloaded with a language runtime, a runtime interface client
# to manage the interaction between Lambda and your function code"; on an OS-only or non-AWS base
# image "you must include a runtime interface client for your language in the image" (for Python,
# the awslambdaric package). The AWS Python base image starts /lambda-entrypoint.sh and keeps the
# runtime under /var/runtime (LAMBDA_RUNTIME_DIR).
BASE_ENTRYPOINT = "lambda-entrypoint.sh"
RUNTIME_DIR = "var/runtime/"
PYTHON_RIC = "awslambdaric"
