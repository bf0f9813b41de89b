import pytest

from tflnlu.io import atomic_directory, write_bytes_atomic


def test_atomic_write_replaces_whole_files_and_leaves_no_temporaries(tmp_path):
    target = tmp_path / "sub" / "model.bin"
    write_bytes_atomic(target, b"one")
    write_bytes_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert sorted(p.name for p in target.parent.iterdir()) == ["model.bin"]


def test_a_failed_directory_write_leaves_the_old_one_untouched(tmp_path):
    out = tmp_path / "export"
    with atomic_directory(out) as work:
        (work / "model.tflite").write_bytes(b"good")
    with pytest.raises(RuntimeError), atomic_directory(out) as work:
        (work / "model.tflite").write_bytes(b"half")
        raise RuntimeError("conversion failed")
    assert (out / "model.tflite").read_bytes() == b"good"
    assert [p.name for p in tmp_path.iterdir()] == ["export"]
