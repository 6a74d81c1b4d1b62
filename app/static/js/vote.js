// Progressive enhancement: vote forms work as plain POSTs; with JavaScript they vote in place.
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!form.matches("form[data-vote]")) return;
  event.preventDefault();
  const response = await fetch(form.action, {
    method: "POST",
    body: new FormData(form),
    headers: { Accept: "application/json" },
    credentials: "same-origin",
  });
  if (!response.ok) { form.submit(); return; }
  const { voted, score } = await response.json();
  const button = form.querySelector("button");
  button.classList.toggle("voted", voted);
  button.setAttribute("aria-pressed", String(voted));
  const item = form.closest("li");
  const counter = item && item.querySelector("[data-score]");
  if (counter) counter.textContent = score;
});
