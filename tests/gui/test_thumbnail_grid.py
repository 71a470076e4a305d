"""Thumbnails keep their shape: pairs get wide tiles even after a dataset of square tiles was shown."""

from PIL import Image

from gan_studio.widgets.thumbnail_grid import THUMB_HEIGHT, ThumbnailGrid


def _images(folder, count, size):
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"{i}.png"
        Image.new("RGB", size, (40 * i % 255, 90, 160)).save(path)
        paths.append(path)
    return paths


def _shown(grid, qtbot, items, wide):
    grid.set_items(items, wide)
    grid.thumbs.data(grid.thumbs.index(0), 1)  # as the view does when it paints: starts the loading
    qtbot.waitUntil(lambda: grid.thumbs.thumbnail_ready(0), timeout=10_000)


def test_pairs_after_single_images_get_wide_tiles(qtbot, tmp_path):
    grid = ThumbnailGrid()
    qtbot.addWidget(grid)
    grid.resize(900, 600)
    grid.show()
    squares = [(p.name, (p,)) for p in _images(tmp_path / "square", 4, (64, 64))]
    _shown(grid, qtbot, squares, wide=False)
    assert grid.visualRect(grid.thumbs.index(0)).width() < 2 * THUMB_HEIGHT

    pairs = [(p.name, (p,)) for p in _images(tmp_path / "pairs", 4, (256, 128))]  # aligned A|B files
    _shown(grid, qtbot, pairs, wide=True)
    qtbot.wait(50)
    rect = grid.visualRect(grid.thumbs.index(0))
    assert rect.width() >= 2 * THUMB_HEIGHT, rect  # not the square tile of the last dataset
    assert grid.sizeHintForIndex(grid.thumbs.index(0)).width() >= 2 * THUMB_HEIGHT
    pixmap = grid.thumbs.data(grid.thumbs.index(0), 1)  # DecorationRole
    assert pixmap.width() == 2 * pixmap.height()  # the whole pair, not its middle
