// kiln's page script. The pages work without it; with it, every code block
// and snippet source gets a button that copies exactly the code shown.
(() => {
  for (const pre of document.querySelectorAll("pre.code")) {
    const wrap = document.createElement("div");
    wrap.className = "code-wrap";
    pre.before(wrap);
    wrap.append(pre);
    // The button sits in the panel's header bar, never over the code: a
    // snippet's title bar, or a bar of its own naming the language.
    let bar = pre.closest("figure.snippet")?.querySelector(".snippet-title > span:last-child");
    if (!bar) {
      bar = document.createElement("div");
      bar.className = "code-bar";
      const lang = document.createElement("span");
      lang.textContent = pre.dataset.lang ?? "";
      bar.append(lang);
      wrap.prepend(bar);
    }
    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy";
    button.textContent = "Copy";
    button.setAttribute("aria-label", "Copy the code");
    button.addEventListener("click", async () => {
      const text = (pre.querySelector("code") ?? pre).textContent;
      try {
        await navigator.clipboard.writeText(text);
      } catch {
        // Pages opened from disk may not have the clipboard API.
        const range = document.createRange();
        range.selectNodeContents(pre);
        const selection = getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        document.execCommand("copy");
        selection.removeAllRanges();
      }
      button.textContent = "Copied";
      setTimeout(() => { button.textContent = "Copy"; }, 2000);
    });
    bar.append(button);
  }

  // A block wider than its column says so with a shadow at its edge.
  const markOverflow = () => {
    for (const pre of document.querySelectorAll("pre")) {
      pre.classList.toggle("overflows", pre.scrollWidth > pre.clientWidth + 1);
    }
  };
  markOverflow();
  addEventListener("resize", markOverflow, { passive: true });

  // The side TOC marks the section being read.
  const links = [...document.querySelectorAll(".sidebar nav.toc a[href^='#']")];
  const sections = links
    .map((link) => [link, document.getElementById(decodeURIComponent(link.hash.slice(1)))])
    .filter(([, heading]) => heading);
  if (sections.length > 0) {
    let current = null;
    const follow = () => {
      let [link] = sections[0];
      for (const [candidate, heading] of sections) {
        if (heading.getBoundingClientRect().top < 120) link = candidate;
      }
      if (link !== current) {
        current?.removeAttribute("aria-current");
        link.setAttribute("aria-current", "location");
        current = link;
      }
    };
    addEventListener("scroll", follow, { passive: true });
    follow();
  }

  // Jupyter writes anchors with the heading's case (`#Learning-objectives`);
  // kiln's heading ids are lowercase. Follow such a fragment anyway.
  const followCase = () => {
    const wanted = decodeURIComponent(location.hash.slice(1));
    if (!wanted || document.getElementById(wanted)) return;
    const lower = wanted.toLowerCase();
    const match = [...document.querySelectorAll("[id]")].find((e) => e.id.toLowerCase() === lower);
    match?.scrollIntoView();
  };
  addEventListener("hashchange", followCase);
  followCase();
})();
