// The timer queues a kernel would pick instead of xen::TimerQueue, written
// here for bench/timer_bench.cpp to measure against (they are not part of
// the library; bench/timer_peers_test.cpp checks them against a model):
//
// - QuadHeap: a 4-ary min-heap of (deadline, timer) pairs in one array, the
//   timer holding its index so that cancel and re-arm are O(log n), as Go's
//   runtime keeps its per-P timers. The deadline sits beside the pointer so
//   that sifting compares without touching the timers (only the moved
//   timers' index fields are written). The array is allocated once, so
//   that the groups of four children share a cache line.
// - RbTree: an intrusive red-black tree with the leftmost node cached, as
//   Linux's timerqueue (hrtimers). Equal deadlines go right of each other,
//   so they come out in arming order with no sequence number.
//
// Both keep the order xen::TimerQueue keeps with no slack: by deadline,
// equal deadlines in arming order, and have the same operations: arm (a
// timer already armed is moved: each queue's own re-arm path), cancel,
// first, pop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace bench {

using PeerFn = void (*)(void* ctx);

// --- the 4-ary heap ----------------------------------------------------------------

struct HeapTimer {
    static constexpr size_t unarmed = ~size_t{0};
    uint64_t deadline = 0;
    uint64_t seq = 0;       // arming order, for equal deadlines
    size_t index = unarmed; // place in the heap array
    PeerFn fn = nullptr;
    void* ctx = nullptr;
    bool armed() const { return index != unarmed; }
};

class QuadHeap {
public:
    explicit QuadHeap(size_t capacity)
    {
        // Slot 0 (the root) sits 16 bytes before a 64-byte line, so that the
        // children of any slot i, 4i+1 .. 4i+4, fill exactly one line.
        raw_ = static_cast<Slot*>(::operator new ((capacity + 4) * sizeof(Slot), std::align_val_t{64}));
        a_ = raw_ + 3;
        cap_ = capacity;
    }
    ~QuadHeap() { ::operator delete (raw_, std::align_val_t{64}); }
    QuadHeap(const QuadHeap&) = delete;
    QuadHeap& operator=(const QuadHeap&) = delete;

    void arm(HeapTimer& t, uint64_t deadline)
    {
        t.deadline = deadline;
        t.seq = next_seq_++;
        if (t.armed()) {
            // Re-arm in place: the new key is later than the old one in
            // arming order, so an equal deadline sifts down.
            const size_t i = t.index;
            const uint64_t old = a_[i].when;
            a_[i].when = deadline;
            if (deadline < old)
                sift_up(i);
            else
                sift_down(i);
            return;
        }
        if (n_ == cap_)
            std::abort(); // the benchmark sizes it
        a_[n_] = Slot{deadline, &t};
        sift_up(n_++);
    }

    bool cancel(HeapTimer& t)
    {
        if (!t.armed())
            return false;
        remove_at(t.index);
        return true;
    }

    HeapTimer* first() const { return n_ == 0 ? nullptr : a_[0].t; }

    HeapTimer* pop()
    {
        if (n_ == 0)
            return nullptr;
        HeapTimer* t = a_[0].t;
        remove_at(0);
        return t;
    }

    size_t size() const { return n_; }

    /// For the tests: every slot is no earlier than its parent and every
    /// timer knows its index.
    bool valid() const
    {
        for (size_t i = 0; i < n_; ++i) {
            if (a_[i].t->index != i || a_[i].t->deadline != a_[i].when)
                return false;
            if (i > 0 && less(a_[i], a_[(i - 1) / 4]))
                return false;
        }
        return true;
    }

private:
    struct Slot {
        uint64_t when;
        HeapTimer* t;
    };

    static bool less(const Slot& x, const Slot& y)
    {
        if (x.when != y.when)
            return x.when < y.when;
        return x.t->seq < y.t->seq; // only on a tie
    }

    void sift_up(size_t i)
    {
        const Slot s = a_[i];
        while (i > 0) {
            const size_t p = (i - 1) / 4;
            if (!less(s, a_[p]))
                break;
            a_[i] = a_[p];
            a_[i].t->index = i;
            i = p;
        }
        a_[i] = s;
        s.t->index = i;
    }

    void sift_down(size_t i)
    {
        const Slot s = a_[i];
        for (;;) {
            const size_t c = 4 * i + 1;
            if (c >= n_)
                break;
            size_t m = c;
            const size_t end = c + 4 < n_ ? c + 4 : n_;
            for (size_t j = c + 1; j < end; ++j)
                if (less(a_[j], a_[m]))
                    m = j;
            if (!less(a_[m], s))
                break;
            a_[i] = a_[m];
            a_[i].t->index = i;
            i = m;
        }
        a_[i] = s;
        s.t->index = i;
    }

    void remove_at(size_t i)
    {
        HeapTimer* t = a_[i].t;
        t->index = HeapTimer::unarmed;
        --n_;
        if (i == n_)
            return;
        a_[i] = a_[n_];
        if (i > 0 && less(a_[i], a_[(i - 1) / 4]))
            sift_up(i);
        else
            sift_down(i);
    }

    Slot* raw_ = nullptr;
    Slot* a_ = nullptr;
    size_t n_ = 0;
    size_t cap_ = 0;
    uint64_t next_seq_ = 0;
};

// --- the red-black tree ------------------------------------------------------------

struct RbTimer {
    RbTimer* left = nullptr;
    RbTimer* right = nullptr;
    RbTimer* parent = nullptr;
    bool red = false;
    bool in_tree = false;
    uint64_t deadline = 0;
    PeerFn fn = nullptr;
    void* ctx = nullptr;
    bool armed() const { return in_tree; }
};

class RbTree {
public:
    RbTree() = default;
    RbTree(const RbTree&) = delete;
    RbTree& operator=(const RbTree&) = delete;

    /// A timer already armed is taken out and inserted again (what Linux's
    /// hrtimer_start does with an active timer).
    void arm(RbTimer& t, uint64_t deadline)
    {
        if (t.in_tree)
            erase(t);
        t.deadline = deadline;
        insert(t);
    }

    bool cancel(RbTimer& t)
    {
        if (!t.in_tree)
            return false;
        erase(t);
        return true;
    }

    RbTimer* first() const { return leftmost_; }

    RbTimer* pop()
    {
        RbTimer* t = leftmost_;
        if (t != nullptr)
            erase(*t);
        return t;
    }

    size_t size() const { return n_; }

    /// For the tests: search order, parent links, no red node with a red
    /// child, the same number of black nodes on every path, the leftmost
    /// cached. Returns false on any violation.
    bool valid() const
    {
        if (root_ != nullptr && (root_->red || root_->parent != nullptr))
            return false;
        size_t count = 0;
        if (check(root_, count) < 0 || count != n_)
            return false;
        const RbTimer* m = root_;
        while (m != nullptr && m->left != nullptr)
            m = m->left;
        return m == leftmost_;
    }

private:
    void insert(RbTimer& z)
    {
        RbTimer* parent = nullptr;
        RbTimer** link = &root_;
        bool leftmost = true;
        while (*link != nullptr) {
            parent = *link;
            if (z.deadline < parent->deadline) {
                link = &parent->left;
            } else {
                link = &parent->right; // equal deadlines: after, in arming order
                leftmost = false;
            }
        }
        z.parent = parent;
        z.left = z.right = nullptr;
        z.red = true;
        z.in_tree = true;
        *link = &z;
        if (leftmost)
            leftmost_ = &z;
        ++n_;
        insert_fixup(&z);
    }

    void insert_fixup(RbTimer* z)
    {
        RbTimer* p;
        while ((p = z->parent) != nullptr && p->red) {
            RbTimer* g = p->parent; // p is red, so not the root
            if (p == g->left) {
                RbTimer* u = g->right;
                if (u != nullptr && u->red) {
                    p->red = u->red = false;
                    g->red = true;
                    z = g;
                    continue;
                }
                if (z == p->right) {
                    rotate_left(p);
                    z = p;
                    p = z->parent;
                }
                p->red = false;
                g->red = true;
                rotate_right(g);
            } else {
                RbTimer* u = g->left;
                if (u != nullptr && u->red) {
                    p->red = u->red = false;
                    g->red = true;
                    z = g;
                    continue;
                }
                if (z == p->left) {
                    rotate_right(p);
                    z = p;
                    p = z->parent;
                }
                p->red = false;
                g->red = true;
                rotate_left(g);
            }
        }
        root_->red = false;
    }

    void erase(RbTimer& node)
    {
        RbTimer* z = &node;
        if (z == leftmost_)
            leftmost_ = z->right != nullptr ? min_of(z->right) : z->parent; // it has no left child
        RbTimer* x;  // what takes the removed colour's place (may be null)
        RbTimer* xp; // x's parent
        bool removed_red;
        if (z->left == nullptr) {
            x = z->right;
            xp = z->parent;
            removed_red = z->red;
            transplant(z, x);
        } else if (z->right == nullptr) {
            x = z->left;
            xp = z->parent;
            removed_red = z->red;
            transplant(z, x);
        } else {
            RbTimer* y = min_of(z->right); // z's successor, no left child
            removed_red = y->red;
            x = y->right;
            if (y->parent == z) {
                xp = y;
            } else {
                xp = y->parent;
                transplant(y, y->right);
                y->right = z->right;
                y->right->parent = y;
            }
            transplant(z, y);
            y->left = z->left;
            y->left->parent = y;
            y->red = z->red;
        }
        z->left = z->right = z->parent = nullptr;
        z->in_tree = false;
        --n_;
        if (!removed_red)
            erase_fixup(x, xp);
    }

    // x carries an extra black; xp is its parent (x may be null, a leaf).
    void erase_fixup(RbTimer* x, RbTimer* xp)
    {
        while (x != root_ && (x == nullptr || !x->red)) {
            if (x == xp->left) {
                RbTimer* w = xp->right; // not null: x's side is a black short
                if (w->red) {
                    w->red = false;
                    xp->red = true;
                    rotate_left(xp);
                    w = xp->right;
                }
                if (!is_red(w->left) && !is_red(w->right)) {
                    w->red = true;
                    x = xp;
                    xp = x->parent;
                } else {
                    if (!is_red(w->right)) {
                        w->left->red = false;
                        w->red = true;
                        rotate_right(w);
                        w = xp->right;
                    }
                    w->red = xp->red;
                    xp->red = false;
                    w->right->red = false;
                    rotate_left(xp);
                    x = root_;
                    xp = nullptr;
                }
            } else {
                RbTimer* w = xp->left;
                if (w->red) {
                    w->red = false;
                    xp->red = true;
                    rotate_right(xp);
                    w = xp->left;
                }
                if (!is_red(w->left) && !is_red(w->right)) {
                    w->red = true;
                    x = xp;
                    xp = x->parent;
                } else {
                    if (!is_red(w->left)) {
                        w->right->red = false;
                        w->red = true;
                        rotate_left(w);
                        w = xp->left;
                    }
                    w->red = xp->red;
                    xp->red = false;
                    w->left->red = false;
                    rotate_right(xp);
                    x = root_;
                    xp = nullptr;
                }
            }
        }
        if (x != nullptr)
            x->red = false;
    }

    static bool is_red(const RbTimer* t) { return t != nullptr && t->red; }

    static RbTimer* min_of(RbTimer* t)
    {
        while (t->left != nullptr)
            t = t->left;
        return t;
    }

    void replace_child(RbTimer* parent, RbTimer* old, RbTimer* now)
    {
        if (parent == nullptr)
            root_ = now;
        else if (parent->left == old)
            parent->left = now;
        else
            parent->right = now;
    }

    void transplant(RbTimer* u, RbTimer* v)
    {
        replace_child(u->parent, u, v);
        if (v != nullptr)
            v->parent = u->parent;
    }

    void rotate_left(RbTimer* x)
    {
        RbTimer* y = x->right;
        x->right = y->left;
        if (y->left != nullptr)
            y->left->parent = x;
        y->parent = x->parent;
        replace_child(x->parent, x, y);
        y->left = x;
        x->parent = y;
    }

    void rotate_right(RbTimer* x)
    {
        RbTimer* y = x->left;
        x->left = y->right;
        if (y->right != nullptr)
            y->right->parent = x;
        y->parent = x->parent;
        replace_child(x->parent, x, y);
        y->right = x;
        x->parent = y;
    }

    // Black height of the subtree, or -1 on a violation; counts nodes.
    static int check(const RbTimer* t, size_t& count)
    {
        if (t == nullptr)
            return 1;
        ++count;
        if (!t->in_tree)
            return -1;
        if (t->left != nullptr && (t->left->parent != t || t->left->deadline > t->deadline))
            return -1;
        if (t->right != nullptr && (t->right->parent != t || t->right->deadline < t->deadline))
            return -1;
        if (t->red && (is_red(t->left) || is_red(t->right)))
            return -1;
        const int l = check(t->left, count);
        const int r = check(t->right, count);
        if (l < 0 || r < 0 || l != r)
            return -1;
        return l + (t->red ? 0 : 1);
    }

    RbTimer* root_ = nullptr;
    RbTimer* leftmost_ = nullptr;
    size_t n_ = 0;
};

} // namespace bench
