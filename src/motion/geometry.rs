//! Polygons in normalised coordinates (0..1 across and down the picture), and the
//! pixel masks they rasterise to.

use serde::Serialize;

pub use crate::motion_settings::Polygon;

impl Polygon {
    /// Even-odd rule point-in-polygon test.
    pub fn contains(&self, x: f32, y: f32) -> bool {
        let p = &self.0;
        let mut inside = false;
        let mut j = p.len().wrapping_sub(1);
        for i in 0..p.len() {
            let (xi, yi) = p[i];
            let (xj, yj) = p[j];
            if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
                inside = !inside;
            }
            j = i;
        }
        inside
    }

    /// A `width` × `height` mask, true where pixel centres fall inside.
    pub fn rasterise(&self, width: usize, height: usize) -> Vec<bool> {
        let mut m = vec![false; width * height];
        for y in 0..height {
            for x in 0..width {
                let (fx, fy) = (
                    (x as f32 + 0.5) / width as f32,
                    (y as f32 + 0.5) / height as f32,
                );
                m[y * width + x] = self.contains(fx, fy);
            }
        }
        m
    }
}

/// A box in pixels of the analysed picture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Rect {
    pub x0: usize,
    pub y0: usize,
    pub x1: usize,
    pub y1: usize,
}

impl Rect {
    pub fn union(self, o: Rect) -> Rect {
        Rect {
            x0: self.x0.min(o.x0),
            y0: self.y0.min(o.y0),
            x1: self.x1.max(o.x1),
            y1: self.y1.max(o.y1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squares_and_triangles() {
        let sq = Polygon(vec![(0.0, 0.0), (0.5, 0.0), (0.5, 0.5), (0.0, 0.5)]);
        assert!(sq.contains(0.25, 0.25));
        assert!(!sq.contains(0.75, 0.25));
        let m = sq.rasterise(4, 4);
        assert_eq!(m.iter().filter(|&&b| b).count(), 4);
        let tri = Polygon(vec![(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)]);
        assert!(tri.contains(0.2, 0.2) && !tri.contains(0.8, 0.8));
    }
}
