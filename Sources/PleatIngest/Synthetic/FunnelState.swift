import PleatCore

/// One user's cart and purchases while `SyntheticLog` writes the funnel (`SyntheticLog.Funnel`).
struct FunnelState {
    private(set) var cart: [Int] = []
    private(set) var bought: Set<Int> = []

    /// The events that a view of `item` starts, with their seconds after the view: the view; a cart of
    /// the item, sometimes; then, sometimes, the purchase of one carted item.
    mutating func events(after item: Int, rng: inout RandomSource) -> [(offset: Int64, touch: (item: Int, behaviour: String))] {
        typealias Funnel = SyntheticLog.Funnel
        var out: [(offset: Int64, touch: (item: Int, behaviour: String))] = [(0, (item, Funnel.view))]
        if !cart.contains(item), !bought.contains(item), rng.uniform() < Funnel.cartProbability {
            cart.append(item)
            out.append((Int64(30 + rng.below(240)), (item, Funnel.cart)))
        }
        if !cart.isEmpty, rng.uniform() < Funnel.buyProbability {
            let chosen = cart.remove(at: rng.below(cart.count))
            bought.insert(chosen)
            out.append((Int64(300 + rng.below(240)), (chosen, Funnel.buy)))
        }
        return out
    }
}
