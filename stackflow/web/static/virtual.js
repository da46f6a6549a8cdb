// A virtualized list: a scrolling box with one spacer, where only the rows on screen
// (and a few around them) exist as elements. Thousands of rows cost what a screenful costs.

import { el } from "./dom.js";

const OVERSCAN_ROWS = 8;
const DEFAULT_VIEW_PX = 600;

export class VirtualRows {
  constructor(className, rowPx, render) {
    this.rowPx = rowPx;
    this.render = render;
    this.items = [];
    this.spacer = el("div", { className: "spacer" });
    this.node = el("div", { className }, this.spacer);
    this.node.addEventListener("scroll", () => this.scheduleDraw());
  }

  set(items) {
    this.items = items;
    this.node.dataset.count = String(items.length);
    this.spacer.style.height = `${items.length * this.rowPx}px`;
    this.draw();
  }

  scheduleDraw() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = null;
      this.draw();
    });
  }

  draw() {
    const height = this.node.clientHeight || DEFAULT_VIEW_PX;
    const first = Math.max(0, Math.floor(this.node.scrollTop / this.rowPx) - OVERSCAN_ROWS);
    const last = Math.min(this.items.length, first + Math.ceil(height / this.rowPx) + 2 * OVERSCAN_ROWS);
    const rows = [];
    for (let i = first; i < last; i += 1) {
      const row = this.render(this.items[i], i);
      row.style.top = `${i * this.rowPx}px`;
      rows.push(row);
    }
    this.spacer.replaceChildren(...rows);
  }
}
