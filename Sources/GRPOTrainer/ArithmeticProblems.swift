import Foundation
import GraderRuntime
import JSON
import TransformerModel

/// The demo task: one-step arithmetic word problems ("Mia has 7 apples and gets 5 more. How
/// many apples now?"), with the answer as `reference_answer` for templates/math.
///
/// The task is wide on purpose: 120 names, 60 objects, 672,000 phrasings (10 openings, each with
/// or without one of 6 times and 4 places, × 32 changes, with or without one of 5 connectives, ×
/// 10 questions), operands at many positions and numbers written as digits or words, so that what
/// a model can learn from it is the arithmetic, not a word list or a sentence shape. A second, disjoint vocabulary (40 names, 20 objects, and 16
/// phrasings from 2 openings, 4 changes and 2 questions never used in training) is kept for the
/// out-of-distribution split.
public struct ArithmeticProblem: Sendable, Equatable {
    public var question: String
    public var a: Int, b: Int
    public var op: Character
    public var answer: Int
    /// The short worked answer used for SFT: `7+5=12` (its last number is the answer, which is
    /// what templates/math reads).
    public var worked: String { "\(a)\(op)\(b)=\(answer)" }
}

/// Which vocabulary a problem is drawn from.
public enum ProblemDistribution: Sendable {
    /// The names, objects and phrasings of training, SFT, validation and the test split.
    case inDistribution
    /// Names, objects and phrasings that never appear in SFT or training.
    case outOfDistribution
}

public enum ArithmeticProblems {
    /// One phrasing: `{N}` is the name, `{T}` the objects, `{A}` and `{B}` the operands; `op` is + or -.
    struct Phrasing: Sendable { var text: String; var op: Character }

    /// A problem is three sentences: an opening that states `{A}`, a change that states `{B}` and
    /// decides the operation, and an op-neutral question. An opening may carry a time in front
    /// ("On Monday, …") and a place at its end ("… at home."); a change may carry a connective
    /// ("Then …"), so the numbers sit at many positions. Every combination is a phrasing.
    struct Vocabulary: Sendable {
        var names: [String], things: [String]
        var openings: [String], changes: [Phrasing], questions: [String]
        /// Optional extras, each also left out: `"{times}, " + opening`, `opening + " {place}."`,
        /// `"{connective} " + change`.
        var times: [String] = [], places: [String] = [], connectives: [String] = []

        /// Every opening with its optional time and place.
        var allOpenings: [String] {
            let timed = [""] + times, placed = [""] + places
            return openings.flatMap { o in timed.flatMap { t in placed.map { p in Self.opening(o, time: t, place: p) } } }
        }
        /// Every change with its optional connective.
        var allChanges: [Phrasing] {
            changes.flatMap { c in ([""] + connectives).map { k in Phrasing(text: Self.change(c.text, connective: k), op: c.op) } }
        }
        var phrasings: [Phrasing] {
            allOpenings.flatMap { o in allChanges.flatMap { c in questions.map { q in Phrasing(text: "\(o) \(c.text) \(q)", op: c.op) } } }
        }

        static func opening(_ o: String, time: String, place: String) -> String {
            var s = o
            if !place.isEmpty, s.hasSuffix(".") { s = String(s.dropLast()) + " \(place)." }
            if !time.isEmpty { s = "\(time), \(lowercasingArticle(s))" }
            return s
        }
        static func change(_ c: String, connective: String) -> String {
            connective.isEmpty ? c : "\(connective) \(lowercasingArticle(c))"
        }
        /// "There are …" → "there are …" after a prefix; names keep their capital.
        static func lowercasingArticle(_ s: String) -> String {
            for w in ["There ", "A "] where s.hasPrefix(w) { return w.lowercased() + s.dropFirst(w.count) }
            return s
        }
    }

    /// Changes whenever the vocabulary or the drawing changes (a demo's cached base model records it).
    public static let version = "wide-6"

    static let numberWords = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]

    static let inDistribution = Vocabulary(
        names: """
        Mia Leo Ava Sam Zoe Max Ivy Ben Eli Kim Noah Emma Liam Olivia Lucas Amara Hugo Nora Omar Priya \
        Ravi Sofia Yuki Kofi Lena Marco Aisha Diego Hana Ivan Jade Kai Lila Mateo Nia Oscar Pia Quinn \
        Rosa Theo Uma Vera Wes Xena Yara Zane Anya Bruno Chloe Dara Elif Felix Gita Hiro Ines Jonas \
        Kira Luca Mina Nils Ola Pablo Rhea Sven Tara Ugo Vik Wren Aiden Bea Cyrus Dina Emil Fatima Gus \
        Hedda Isak Juno Kenji Lotte Malik Nadia Otto Paz Rafa Sara Timo Ulla Vito Willa Yusuf Zara Abel \
        Bianca Cleo Dev Esme Finn Greta Hamid Iris Jorge Kaia Lars Maya Niko Orla Pedro Rumi Selma \
        Tobias Una Valen Wanda Ximena Yosef Zelda
        """.split(separator: " ").map(String.init),
        things: """
        apples pens books cards coins shells stamps cups marbles pencils cookies stickers balloons \
        buttons candles crayons eggs flowers grapes hats keys kites lemons mugs nails oranges pears \
        plates rings rocks seeds socks spoons stars toys tickets tomatoes trucks whistles blocks beads \
        bottles boxes brushes cakes carrots chairs cherries clips dolls drums fish forks gloves jars \
        leaves magnets muffins nuts
        """.split(separator: " ").map(String.init),
        openings: ["{N} has {A} {T}.", "{N} had {A} {T}.", "{N} buys {A} {T}.", "{N} picks {A} {T}.",
                   "There are {A} {T} on {N}'s desk.", "{N} owns {A} {T}.", "{N} starts with {A} {T}.",
                   "{A} {T} belong to {N}.", "{N} brings {A} {T}.", "{N} counts {A} {T}."],
        changes: [
            Phrasing(text: "{N} gets {B} more.", op: "+"), Phrasing(text: "{N} buys {B} more.", op: "+"),
            Phrasing(text: "A friend gives {N} {B} more.", op: "+"), Phrasing(text: "{N} finds {B} more.", op: "+"),
            Phrasing(text: "{N} makes {B} more.", op: "+"), Phrasing(text: "{N} picks up {B} more.", op: "+"),
            Phrasing(text: "{N} is given {B} more.", op: "+"), Phrasing(text: "{N} earns {B} more.", op: "+"),
            Phrasing(text: "{B} more arrive.", op: "+"), Phrasing(text: "{N} adds {B} more.", op: "+"),
            Phrasing(text: "{N} gives away {B}.", op: "-"), Phrasing(text: "{N} loses {B}.", op: "-"),
            Phrasing(text: "{N} eats {B} of them.", op: "-"), Phrasing(text: "{N} sells {B}.", op: "-"),
            Phrasing(text: "A friend takes {B} of them.", op: "-"), Phrasing(text: "{N} drops {B} of them.", op: "-"),
            Phrasing(text: "{N} uses {B} of them.", op: "-"), Phrasing(text: "{N} throws away {B}.", op: "-"),
            Phrasing(text: "{B} of them get lost.", op: "-"), Phrasing(text: "{N} hands out {B}.", op: "-"),
            Phrasing(text: "{N} grows {B} more.", op: "+"), Phrasing(text: "{N} orders {B} more.", op: "+"),
            Phrasing(text: "{N} gathers {B} more.", op: "+"), Phrasing(text: "{N} saves up {B} more.", op: "+"),
            Phrasing(text: "Mom gives {N} {B} more.", op: "+"), Phrasing(text: "{N} borrows {B} more.", op: "+"),
            Phrasing(text: "{N} spends {B} of them.", op: "-"), Phrasing(text: "{N} lends out {B}.", op: "-"),
            Phrasing(text: "{N} puts away {B}.", op: "-"), Phrasing(text: "{N} mails {B} of them.", op: "-"),
            Phrasing(text: "{N} donates {B}.", op: "-"), Phrasing(text: "A dog chews up {B} of them.", op: "-"),
        ],
        questions: ["How many {T} now?", "How many {T} does {N} have?", "How many are there now?",
                    "What is the number of {T} now?", "How many {T} does {N} have now?", "How many {T} are there?",
                    "Find how many {T} {N} has.", "How many {T} does {N} have after that?",
                    "Tell me the number of {T}.", "So how many {T} are there now?"],
        times: ["Today", "This morning", "On Monday", "Yesterday", "After school", "In the evening"],
        places: ["at home", "in a bag", "on the table", "at school"],
        connectives: ["Then", "Next,", "After that,", "Soon", "Now"])

    static let outOfDistribution = Vocabulary(
        names: """
        Tom Ann Bob Sue Joe Amy Dan Eva Raj Meg Carl Lucy Fred Gwen Hank Jill Kurt Lisa Mark Nell Paul \
        Rita Stan Tina Vince Wendy Abdul Beatriz Chen Dmitri Ebony Farid Giorgio Helga Ingrid Jamal \
        Keiko Lorenzo Mehmet Naveen
        """.split(separator: " ").map(String.init),
        things: """
        bananas lamps peaches robots scarves shoes candies feathers puzzles rulers notebooks pillows \
        baskets cans coats maps towels wheels bells boats
        """.split(separator: " ").map(String.init),
        openings: ["At first {N} kept {A} {T} in a box.", "{N} collected {A} {T} last week."],
        changes: [
            Phrasing(text: "Later {N} wins {B} more.", op: "+"), Phrasing(text: "{N} receives {B} more.", op: "+"),
            Phrasing(text: "Later {N} trades away {B}.", op: "-"), Phrasing(text: "{N} breaks {B} of them.", op: "-"),
        ],
        questions: ["Count the {T} {N} has at the end.", "What number of {T} does {N} hold in the end?"])

    static func vocabulary(_ d: ProblemDistribution) -> Vocabulary {
        d == .inDistribution ? inDistribution : outOfDistribution
    }

    /// `count` problems drawn with `seed` (sums and differences of numbers 1-9; a quarter of the
    /// operands are written as words; half the openings carry a time, a third a place, half the
    /// changes a connective).
    public static func generate(count: Int, seed: UInt64, from distribution: ProblemDistribution = .inDistribution) -> [ArithmeticProblem] {
        var rng = TrainerRNG(seed: seed)
        let vocab = vocabulary(distribution)
        func pick<T>(_ xs: [T]) -> T { xs[Int(rng.next() % UInt64(xs.count))] }
        func maybe(_ xs: [String], oneIn n: UInt64) -> String { xs.isEmpty || rng.next() % n != 0 ? "" : pick(xs) }
        func number(_ n: Int) -> String { rng.next() % 4 == 0 ? numberWords[n] : String(n) }
        return (0..<count).map { _ in
            let name = pick(vocab.names), thing = pick(vocab.things)
            var change = pick(vocab.changes)
            change.text = Vocabulary.change(change.text, connective: maybe(vocab.connectives, oneIn: 2))
            var opening = pick(vocab.openings)
            opening = Vocabulary.opening(opening, time: maybe(vocab.times, oneIn: 2), place: maybe(vocab.places, oneIn: 3))
            let phrasing = Phrasing(text: "\(opening) \(change.text) \(pick(vocab.questions))", op: change.op)
            var a = Int(rng.next() % 9) + 1, b = Int(rng.next() % 9) + 1
            if phrasing.op == "-", a < b { swap(&a, &b) }
            var text = phrasing.text.replacingOccurrences(of: "{N}", with: name).replacingOccurrences(of: "{T}", with: thing)
            text = text.replacingOccurrences(of: "{A}", with: number(a)).replacingOccurrences(of: "{B}", with: number(b))
            return ArithmeticProblem(question: capitalizingSentences(text), a: a, b: b, op: phrasing.op,
                                     answer: phrasing.op == "+" ? a + b : a - b)
        }
    }

    /// "seven more arrive." → "Seven more arrive.": a sentence that starts with a number in words.
    static func capitalizingSentences(_ text: String) -> String {
        var out = "", atStart = true
        for c in text {
            out.append(atStart && c.isLetter ? Character(c.uppercased()) : c)
            if c == "." || c == "?" { atStart = true } else if c != " " { atStart = false }
        }
        return out
    }

    /// The demo's data sets, pairwise disjoint in question text: SFT, train, validation and the
    /// in-distribution test split from one vocabulary, the OOD split from the other.
    public struct Splits: Sendable {
        public var sft: [ArithmeticProblem], train: [ArithmeticProblem], validation: [ArithmeticProblem]
        public var test: [ArithmeticProblem], ood: [ArithmeticProblem]
    }

    /// Draws the demo's splits with `seed`: no question text appears in two of them.
    public static func splits(seed: UInt64, sft: Int, train: Int, validation: Int, test: Int, ood: Int) -> Splits {
        var seen = Set<String>()
        func unique(_ count: Int, _ distribution: ProblemDistribution, _ stream: UInt64) -> [ArithmeticProblem] {
            var out: [ArithmeticProblem] = []
            var round: UInt64 = 0
            while out.count < count {
                for p in generate(count: count, seed: seed &* 1_000_003 &+ stream &* 101 &+ round, from: distribution)
                where out.count < count && seen.insert(p.question).inserted { out.append(p) }
                round += 1
            }
            return out
        }
        // Evaluation sets first, so their size does not depend on how many SFT examples are asked for.
        let validation = unique(validation, .inDistribution, 1), test = unique(test, .inDistribution, 2)
        let ood = unique(ood, .outOfDistribution, 3)
        let train = unique(train, .inDistribution, 4), sft = unique(sft, .inDistribution, 5)
        return Splits(sft: sft, train: train, validation: validation, test: test, ood: ood)
    }

    /// Bedrock-format prompt records (`id`, `messages`, `reference_answer`).
    public static func records(_ problems: [ArithmeticProblem], prefix: String) -> [JSONValue] {
        problems.enumerated().map { i, p in
            ["id": .string("\(prefix)-\(i)"), "messages": [["role": "user", "content": .string(p.question)]],
             "reference_answer": .string(String(p.answer))]
        }
    }

    /// Chat conversations for SFT: each question with its correct worked answer (`7+5=12`).
    public static func conversations(_ problems: [ArithmeticProblem]) -> [[ChatMessage]] {
        problems.map { [ChatMessage(role: "user", content: $0.question), ChatMessage(role: "assistant", content: $0.worked)] }
    }
}
