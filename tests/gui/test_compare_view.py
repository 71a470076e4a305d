from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage

from gan_studio.widgets.compare_view import CompareView


def _image(color, w=400, h=300):
    image = QImage(w, h, QImage.Format.Format_RGB32)
    image.fill(QColor(color))
    return image


def _view(qtbot):
    view = CompareView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    qtbot.waitExposed(view)
    view.set_images(_image("red"), _image("blue"))
    return view


def test_dragging_the_split_line_moves_it_and_shows_before_and_after(qtbot):
    view = _view(qtbot)
    shot = view.grab().toImage()
    assert shot.pixelColor(100, 150).red() > 200 and shot.pixelColor(300, 150).blue() > 200
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(200, 150))
    qtbot.mouseMove(view, QPoint(320, 150))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(320, 150))
    assert abs(view.split - 0.8) < 0.02
    assert view.grab().toImage().pixelColor(300, 150).red() > 200  # now still "before" there


def test_wheel_zooms_around_the_pointer_and_drag_pans(qtbot):
    view = _view(qtbot)
    fit_scale = view.scale
    point = QPointF(100, 100)
    image_point = view.offset + point / view.scale
    qtbot.wheel = None
    from PySide6.QtGui import QWheelEvent

    event = QWheelEvent(
        point,
        view.mapToGlobal(point),
        QPoint(0, 0),
        QPoint(0, 240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    view.wheelEvent(event)
    assert view.scale > fit_scale * 1.5
    assert (view.offset + point / view.scale - image_point).manhattanLength() < 1e-6  # the point stayed put
    before = QPointF(view.offset)
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(50, 50))  # far from the split line
    qtbot.mouseMove(view, QPoint(90, 70))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(90, 70))
    assert view.offset.x() < before.x() and view.offset.y() < before.y()


def test_keyboard_shortcuts(qtbot):
    view = _view(qtbot)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_1)
    assert abs(view.scale - 1.0) < 1e-9
    qtbot.keyClick(view, Qt.Key.Key_F)
    assert view.fitted
    qtbot.keyClick(view, Qt.Key.Key_S)
    assert view.side_by_side
    shot = view.grab().toImage()
    assert shot.pixelColor(100, 150).red() > 200 and shot.pixelColor(300, 150).blue() > 200
    qtbot.keyClick(view, Qt.Key.Key_S)
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert abs(view.split - 0.55) < 1e-9
