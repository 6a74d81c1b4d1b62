// Progressive enhancement: vote forms work as plain POSTs; with JavaScript they vote in place.
// The form says what the vote becomes (up=1 or up=0), so the same request twice leaves one vote. Still, a
// request that failed is never resent here: it may have been saved, so the reader is told and decides.
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!form.matches("form[data-vote]")) return;
  event.preventDefault();
  const button = form.querySelector("button");
  let response = null;
  try {
    response = await fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
  } catch (error) {
    response = null; // the network failed: the vote may or may not have been saved
  }
  const isJson = response && (response.headers.get("Content-Type") || "").includes("application/json");
  if (!response || !response.ok || !isJson) {
    button.classList.add("failed");
    button.title = "Your vote may not have been saved: reload the page to see it.";
    return;
  }
  const { voted, score } = await response.json();
  form.elements.up.value = voted ? "0" : "1";
  button.classList.remove("failed");
  button.title = "vote";
  button.classList.toggle("voted", voted);
  button.setAttribute("aria-pressed", String(voted));
  const item = form.closest("li");
  const counter = item && item.querySelector("[data-score]");
  if (counter) counter.textContent = score;
});
