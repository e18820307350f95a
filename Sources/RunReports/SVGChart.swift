import Foundation

/// A named series of (x, y) points for a chart; only finite points are drawn.
struct ChartSeries {
    var name: String
    var points: [(x: Double, y: Double)]
    var color: String
    var dashed = false
    /// Draw a dot at every point (validation curves, short runs).
    var dots = false
    /// Optional shaded band (lower, upper) per x, e.g. mean ± std or min..max.
    var band: [(x: Double, low: Double, high: Double)] = []
}

/// A horizontal reference line, such as the baseline's validation reward.
struct ReferenceLine {
    var y: Double
    var label: String
    var color: String
}

/// A vertical marker at a step, such as a monitor warning.
struct StepMarker {
    var x: Double
    var label: String
    var tooltip: String
}

/// A line chart rendered as inline SVG: axes with nice ticks, a legend, reference lines and step markers.
struct LineChart {
    var title: String
    var series: [ChartSeries]
    var references: [ReferenceLine] = []
    var markers: [StepMarker] = []
    var xLabel = "step"
    var width = 620.0
    var height = 250.0

    private let left = 52.0, right = 14.0, bottom = 34.0

    private var legendEntries: [(name: String, color: String, dashed: Bool)] {
        series.filter { !$0.points.isEmpty }.map { ($0.name, $0.color, $0.dashed) }
            + references.map { ($0.label, $0.color, true) }
    }

    private static func legendWidth(_ name: String) -> Double { Double(name.count) * 6.6 + 30 }

    /// The legend sits right of the title when both fit, else on its own row below it.
    private var legendOnOwnRow: Bool {
        let legend = legendEntries.map { Self.legendWidth($0.name) }.reduce(0, +)
        return left + Double(title.count) * 7.6 + 12 + legend > width - right
    }

    private var top: Double { legendOnOwnRow ? 48 : 34 }

    var hasData: Bool { series.contains { !$0.points.isEmpty } }

    func svg() -> String {
        guard hasData else { return SVG.noData(title: title, width: width, height: height) }
        let allPoints = series.flatMap(\.points)
        let bandYs = series.flatMap { $0.band.flatMap { [$0.low, $0.high] } }.filter(\.isFinite)
        let xs = allPoints.map(\.x) + markers.map(\.x)
        let ys = allPoints.map(\.y) + references.map(\.y) + bandYs
        let xScale = Axis(values: xs + (xs.min().map { $0 >= 0 && $0 <= 2 ? [0] : [] } ?? []), integer: true)
        let yScale = Axis(values: ys, integer: false)
        let plotW = width - left - right, plotH = height - top - bottom
        func px(_ x: Double) -> Double { left + xScale.fraction(x) * plotW }
        func py(_ y: Double) -> Double { top + (1 - yScale.fraction(y)) * plotH }

        var s = SVG.open(width: width, height: height, label: title)
        s += "<text class=\"ct\" x=\"\(left)\" y=\"16\">\(HTMLText.escape(title))</text>"
        // Grid and ticks.
        for t in yScale.ticks {
            let y = HTMLText.coord(py(t))
            s += "<line class=\"gl\" x1=\"\(left)\" x2=\"\(width - right)\" y1=\"\(y)\" y2=\"\(y)\"/>"
            s += "<text class=\"tick\" x=\"\(left - 6)\" y=\"\(y)\" text-anchor=\"end\" dominant-baseline=\"middle\">\(HTMLText.number(t))</text>"
        }
        for t in xScale.ticks {
            let x = HTMLText.coord(px(t))
            s += "<line class=\"axis\" x1=\"\(x)\" x2=\"\(x)\" y1=\"\(top + plotH)\" y2=\"\(top + plotH + 4)\"/>"
            s += "<text class=\"tick\" x=\"\(x)\" y=\"\(top + plotH + 16)\" text-anchor=\"middle\">\(HTMLText.number(t))</text>"
        }
        s += "<line class=\"axis\" x1=\"\(left)\" x2=\"\(width - right)\" y1=\"\(top + plotH)\" y2=\"\(top + plotH)\"/>"
        s += "<text class=\"tick\" x=\"\(width - right)\" y=\"\(height - 4)\" text-anchor=\"end\">\(HTMLText.escape(xLabel))</text>"
        // Warning markers.
        let labelled = markers.count <= 12  // beyond that, labels would overlap: lines and tooltips only
        for m in markers {
            let x = HTMLText.coord(px(m.x))
            s += "<g class=\"marker\"><title>\(HTMLText.escape(m.tooltip))</title>"
            s += "<line x1=\"\(x)\" x2=\"\(x)\" y1=\"\(top)\" y2=\"\(top + plotH)\"/>"
            if labelled { s += "<text x=\"\(x)\" y=\"\(top - 3)\" text-anchor=\"middle\">\(HTMLText.escape(m.label))</text>" }
            s += "</g>"
        }
        // Bands, then lines.
        for series in self.series where !series.band.isEmpty {
            let upper = series.band.map { "\(HTMLText.coord(px($0.x))),\(HTMLText.coord(py($0.high)))" }
            let lower = series.band.reversed().map { "\(HTMLText.coord(px($0.x))),\(HTMLText.coord(py($0.low)))" }
            s += "<path class=\"band\" fill=\"\(series.color)\" d=\"M\(upper.joined(separator: " L"))"
                + " L\(lower.joined(separator: " L")) Z\"/>"
        }
        for r in references {
            let y = HTMLText.coord(py(r.y))
            s += "<g class=\"ref\"><title>\(HTMLText.escape(r.label)) = \(HTMLText.number(r.y))</title>"
            s += "<line x1=\"\(left)\" x2=\"\(width - right)\" y1=\"\(y)\" y2=\"\(y)\" stroke=\"\(r.color)\"/></g>"
        }
        func pathData(_ points: [(x: Double, y: Double)]) -> String {
            points.enumerated().map { i, p in
                (i == 0 ? "M" : "L") + "\(HTMLText.coord(px(p.x))),\(HTMLText.coord(py(p.y)))"
            }.joined(separator: " ")
        }
        for series in self.series where !series.points.isEmpty {
            let dash = series.dashed ? " stroke-dasharray=\"5 4\"" : ""
            var points = series.points
            if points.count > Self.smoothingThreshold && !series.dots {
                // Long noisy runs: the raw curve faint, a smoothed trend on top (as TensorBoard does).
                s += "<path class=\"raw\" stroke=\"\(series.color)\" d=\"\(pathData(points))\"/>"
                points = Self.smoothed(points)
            }
            s += "<path class=\"line\" stroke=\"\(series.color)\"\(dash) d=\"\(pathData(points))\"><title>\(HTMLText.escape(series.name))</title></path>"
            if series.dots || series.points.count < 3 {
                for p in series.points {
                    s += "<circle cx=\"\(HTMLText.coord(px(p.x)))\" cy=\"\(HTMLText.coord(py(p.y)))\" r=\"3\" fill=\"\(series.color)\">"
                    s += "<title>\(HTMLText.escape(series.name)) step \(HTMLText.number(p.x)): \(HTMLText.number(p.y))</title></circle>"
                }
            }
        }
        // Legend (series, then reference lines): right-aligned in the title row, or its own row.
        let legendY = legendOnOwnRow ? 30.0 : 12.0
        var lx = width - right
        for (name, color, dashed) in legendEntries.reversed() {
            lx -= Self.legendWidth(name)
            let dash = dashed ? " stroke-dasharray=\"4 3\"" : ""
            s += "<line x1=\"\(HTMLText.coord(lx))\" x2=\"\(HTMLText.coord(lx + 16))\" y1=\"\(legendY)\" y2=\"\(legendY)\" stroke=\"\(color)\" stroke-width=\"2.5\"\(dash)/>"
            s += "<text class=\"legend\" x=\"\(HTMLText.coord(lx + 20))\" y=\"\(legendY + 4)\">\(HTMLText.escape(name))</text>"
        }
        return s + "</svg>"
    }
}

extension LineChart {
    /// Series longer than this are drawn raw (faint) plus smoothed.
    static let smoothingThreshold = 100

    /// A debiased exponential moving average whose window is about 1/50 of the series.
    static func smoothed(_ points: [(x: Double, y: Double)]) -> [(x: Double, y: Double)] {
        let weight = 1 - 1 / max(1, Double(points.count) / 50)
        var ema = 0.0, norm = 0.0
        return points.map { p in
            ema = ema * weight + p.y * (1 - weight)
            norm = norm * weight + (1 - weight)
            return (p.x, ema / norm)
        }
    }
}

/// One histogram panel: its label, the values, and optionally the exact mean (when the values are
/// bin midpoints rebuilt from a stored histogram).
struct HistogramPanel {
    var label: String
    var values: [Double]
    var mean: Double? = nil
}

/// Small-multiple histograms sharing one set of bins (the reward distribution at a few steps).
struct HistogramChart {
    var title: String
    var panels: [HistogramPanel]
    var bins = 10
    var color = "#2563eb"
    var width = 620.0
    var panelsPerRow = 3
    /// Height of the placeholder when there is no data.
    var height = 200.0

    func svg() -> String {
        let finitePanels = panels.map { ($0.label, $0.values.filter(\.isFinite), $0.mean) }.filter { !$0.1.isEmpty }
        guard !finitePanels.isEmpty else { return SVG.noData(title: title, width: width, height: height) }
        let all = finitePanels.flatMap(\.1)
        var lo = all.min()!, hi = all.max()!
        if lo >= 0 && hi <= 1 { lo = 0; hi = 1 }  // rewards in [0, 1]: fixed bins, comparable panels
        if hi - lo < 1e-12 { lo -= 0.5; hi += 0.5 }
        let binWidth = (hi - lo) / Double(bins)
        let counts: [[Int]] = finitePanels.map { _, values, _ in
            var c = [Int](repeating: 0, count: bins)
            for v in values { c[min(bins - 1, max(0, Int((v - lo) / binWidth)))] += 1 }
            return c
        }
        let perRow = finitePanels.count == 4 ? 2 : min(finitePanels.count, panelsPerRow)
        let rows = (finitePanels.count + perRow - 1) / perRow
        let gap = 16.0, top = 30.0, rowH = 140.0, side = 8.0, labelH = 46.0
        let panelW = (width - 2 * side - gap * Double(perRow - 1)) / Double(perRow)
        let plotH = rowH - labelH
        let height = top + Double(rows) * rowH

        var s = SVG.open(width: width, height: height, label: title)
        s += "<text class=\"ct\" x=\"\(side)\" y=\"16\">\(HTMLText.escape(title))</text>"
        for (i, (label, values, exactMean)) in finitePanels.enumerated() {
            let x0 = side + Double(i % perRow) * (panelW + gap)
            let y0 = top + Double(i / perRow) * rowH + 6
            let maxCount = Double(max(1, counts[i].max() ?? 1))
            let barW = panelW / Double(bins)
            var d = ""
            for (b, c) in counts[i].enumerated() where c > 0 {
                let h = Double(c) / maxCount * plotH
                d += "M\(HTMLText.coord(x0 + Double(b) * barW + 0.5)),\(HTMLText.coord(y0 + plotH))"
                d += " v\(HTMLText.coord(-h)) h\(HTMLText.coord(barW - 1)) v\(HTMLText.coord(h)) Z "
            }
            let mean = exactMean.flatMap { $0.isFinite ? $0 : nil } ?? values.reduce(0, +) / Double(values.count)
            s += "<path class=\"bars\" fill=\"\(color)\" d=\"\(d)\"><title>\(HTMLText.escape(label)): \(values.count) samples, mean \(HTMLText.number(mean))</title></path>"
            let mx = x0 + (mean - lo) / (hi - lo) * panelW
            s += "<line class=\"mean\" x1=\"\(HTMLText.coord(mx))\" x2=\"\(HTMLText.coord(mx))\" y1=\"\(y0)\" y2=\"\(y0 + plotH)\"/>"
            s += "<line class=\"axis\" x1=\"\(HTMLText.coord(x0))\" x2=\"\(HTMLText.coord(x0 + panelW))\" y1=\"\(y0 + plotH)\" y2=\"\(y0 + plotH)\"/>"
            s += "<text class=\"tick\" x=\"\(HTMLText.coord(x0))\" y=\"\(y0 + plotH + 12)\">\(HTMLText.number(lo))</text>"
            s += "<text class=\"tick\" x=\"\(HTMLText.coord(x0 + panelW))\" y=\"\(y0 + plotH + 12)\" text-anchor=\"end\">\(HTMLText.number(hi))</text>"
            s += "<text class=\"legend\" x=\"\(HTMLText.coord(x0 + panelW / 2))\" y=\"\(y0 + plotH + 25)\" text-anchor=\"middle\">"
                + "<tspan font-weight=\"600\">\(HTMLText.escape(label))</tspan></text>"
            s += "<text class=\"tick\" x=\"\(HTMLText.coord(x0 + panelW / 2))\" y=\"\(y0 + plotH + 38)\" text-anchor=\"middle\">"
                + "n=\(values.count) · mean \(HTMLText.number(mean))</text>"
        }
        return s + "</svg>"
    }
}

/// Horizontal bars with labels (error totals by type).
struct BarChart {
    var title: String
    var bars: [(label: String, value: Double)]
    var color = "#dc2626"
    var width = 620.0

    func svg() -> String {
        let bars = self.bars.filter { $0.value.isFinite && $0.value > 0 }
        let rowH = 22.0, top = 28.0
        let height = top + Double(max(bars.count, 1)) * rowH + 8
        guard !bars.isEmpty else { return SVG.noData(title: title, width: width, height: 120) }
        let labelW = min(220, Double(bars.map(\.label.count).max()!) * 6.6 + 10)
        let maxV = bars.map(\.value).max()!
        let plotW = width - labelW - 60
        var s = SVG.open(width: width, height: height, label: title)
        s += "<text class=\"ct\" x=\"8\" y=\"16\">\(HTMLText.escape(title))</text>"
        var d = ""
        for (i, bar) in bars.enumerated() {
            let y = top + Double(i) * rowH
            let w = max(1, bar.value / maxV * plotW)
            d += "M\(HTMLText.coord(labelW)),\(HTMLText.coord(y + 3)) h\(HTMLText.coord(w)) v\(rowH - 8) h\(HTMLText.coord(-w)) Z "
            s += "<text class=\"tick\" x=\"\(HTMLText.coord(labelW - 6))\" y=\"\(HTMLText.coord(y + rowH / 2))\" text-anchor=\"end\" dominant-baseline=\"middle\">\(HTMLText.escape(bar.label))</text>"
            s += "<text class=\"tick\" x=\"\(HTMLText.coord(labelW + w + 6))\" y=\"\(HTMLText.coord(y + rowH / 2))\" dominant-baseline=\"middle\">\(HTMLText.number(bar.value))</text>"
        }
        s += "<path class=\"bars\" fill=\"\(color)\" d=\"\(d)\"/>"
        return s + "</svg>"
    }
}

enum SVG {
    static func open(width: Double, height: Double, label: String) -> String {
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(HTMLText.escape(label))\">"
    }

    /// A placeholder with the chart's title and "no data", so a short or empty run still renders.
    static func noData(title: String, width: Double, height: Double) -> String {
        open(width: width, height: height, label: title)
            + "<text class=\"ct\" x=\"8\" y=\"16\">\(HTMLText.escape(title))</text>"
            + "<text class=\"nodata\" x=\"\(width / 2)\" y=\"\(height / 2)\" text-anchor=\"middle\">no data</text></svg>"
    }
}

/// A numeric axis with "nice" ticks (1, 2, 5 × 10ⁿ) covering the data.
struct Axis {
    var lo: Double
    var hi: Double
    var ticks: [Double]

    init(values: [Double], integer: Bool) {
        let finite = values.filter(\.isFinite)
        var lo = finite.min() ?? 0, hi = finite.max() ?? 1
        if hi - lo < 1e-12 {
            let pad = integer ? 1 : max(abs(lo) * 0.1, 0.05)
            lo -= pad; hi += pad
        }
        let raw = (hi - lo) / 5
        let mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
        let stepUsed = integer ? max(1, step.rounded()) : step
        var ticks: [Double] = []
        var t = (lo / stepUsed).rounded(.up) * stepUsed
        while t <= hi + stepUsed * 1e-9, ticks.count < 12 { ticks.append(abs(t) < stepUsed * 1e-9 ? 0 : t); t += stepUsed }
        if !integer {  // extend the y range to whole ticks so the curve never touches the frame
            lo = min(lo, (lo / stepUsed).rounded(.down) * stepUsed)
            hi = max(hi, (hi / stepUsed).rounded(.up) * stepUsed)
            ticks = Array(stride(from: lo, through: hi + stepUsed * 1e-9, by: stepUsed).prefix(12)).map { abs($0) < stepUsed * 1e-9 ? 0 : $0 }
        }
        self.lo = lo
        self.hi = hi
        self.ticks = ticks
    }

    func fraction(_ v: Double) -> Double { (v - lo) / (hi - lo) }
}
