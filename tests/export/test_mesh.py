"""glTF mesh export, read back with pygltflib (independent of trimesh, which writes it)."""

from __future__ import annotations

import io

import numpy as np
import pytest

from tests.export.scenes import FAR, NEAR, step_scene
from viewshift.errors import InputError, OutputError
from viewshift.export import export_scene
from viewshift.export.mesh import scene_to_mesh

pygltflib = pytest.importorskip("pygltflib", reason="pygltflib (dev extra) reads the glTF back")

_COMPONENTS = {5125: np.uint32, 5123: np.uint16, 5126: np.float32, 5121: np.uint8}
_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3}


def _accessor(gltf, blob: bytes, index: int) -> np.ndarray:
    acc = gltf.accessors[index]
    view = gltf.bufferViews[acc.bufferView]
    start = (view.byteOffset or 0) + (acc.byteOffset or 0)
    n = acc.count * _WIDTH[acc.type]
    return np.frombuffer(blob, _COMPONENTS[acc.componentType], n, start).reshape(acc.count, -1)


def _read_glb(path):
    gltf = pygltflib.GLTF2.load(str(path))
    blob = gltf.binary_blob()
    prim = gltf.meshes[0].primitives[0]
    positions = _accessor(gltf, blob, prim.attributes.POSITION)
    uv = _accessor(gltf, blob, prim.attributes.TEXCOORD_0)
    faces = _accessor(gltf, blob, prim.indices).reshape(-1, 3)
    tex_index = gltf.materials[prim.material].pbrMetallicRoughness.baseColorTexture.index
    image = gltf.images[gltf.textures[tex_index].source]
    view = gltf.bufferViews[image.bufferView]
    png = blob[view.byteOffset or 0 : (view.byteOffset or 0) + view.byteLength]
    return positions, uv, faces, image.mimeType, png


def test_glb_has_no_triangle_across_a_depth_step(tmp_path):
    h, w = 12, 16
    scene = step_scene(h, w)
    (out,) = export_scene(scene, tmp_path / "step.glb")
    positions, uv, faces, mime, png = _read_glb(out)
    # glTF axes: depth is -z.
    z = -positions[:, 2][faces]
    across = ((np.isclose(z, NEAR)).any(1) & (np.isclose(z, FAR)).any(1)).sum()
    assert across == 0
    # Every cell not touching the step is kept: (h-1) rows × (w-2) cells × 2 triangles (one cell column spans it).
    assert len(faces) == (h - 1) * (w - 2) * 2
    assert positions.shape == (h * w, 3)
    # The vertex of pixel (x=3, y=5) is its back-projection (f = 20, principal point ((w-1)/2, (h-1)/2)).
    x, y = 3, 5
    expected = np.array([(x - 7.5) * NEAR / 20.0, -(y - 5.5) * NEAR / 20.0, -NEAR])
    np.testing.assert_allclose(positions[y * w + x], expected, atol=1e-6)
    # UVs: glTF origin top-left, pixel centres.
    np.testing.assert_allclose(uv[y * w + x], [(x + 0.5) / w, (y + 0.5) / h], atol=1e-6)
    # The embedded texture is the photo.
    from PIL import Image

    assert mime == "image/png"
    tex = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    photo = np.rint(scene.image[0].permute(1, 2, 0).numpy() * 255).astype(np.uint8)
    np.testing.assert_array_equal(tex, photo)


def test_triangles_face_the_camera():
    mesh = scene_to_mesh(step_scene(), step=1)
    v = mesh.vertices[mesh.faces]
    normal = np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0])
    assert (normal[:, 2] > 0).all()  # towards +z, where the camera (at the origin, looking down -z) is


def test_a_gentle_slope_is_not_cut():
    scene = step_scene(8, 8)
    ramp = np.linspace(1.0, 1.3, 8, dtype=np.float32)[None, :].repeat(8, 0)  # 4 % per pixel
    scene.depth[0, 0] = __import__("torch").from_numpy(ramp)
    mesh = scene_to_mesh(scene, step=1)
    assert mesh.dropped == 0 and len(mesh.faces) == 7 * 7 * 2


def test_gltf_with_embedded_buffers(tmp_path):
    (out,) = export_scene(step_scene(), tmp_path / "step.gltf")
    gltf = pygltflib.GLTF2.load(str(out))
    assert gltf.buffers[0].uri.startswith("data:")
    assert gltf.accessors[gltf.meshes[0].primitives[0].indices].count == 11 * 14 * 2 * 3


def test_refusals(tmp_path):
    scene = step_scene()
    with pytest.raises(InputError, match="edge ratio"):
        scene_to_mesh(scene, edge_ratio=1.0)
    with pytest.raises(InputError, match="not .ply"):
        export_scene(scene, tmp_path / "a.ply", "mesh")
    (tmp_path / "a.glb").write_bytes(b"x")
    with pytest.raises(OutputError, match="already exists"):
        export_scene(scene, tmp_path / "a.glb")
    assert (tmp_path / "a.glb").read_bytes() == b"x"
