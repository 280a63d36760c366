import { CREDITS, gotoHydrated, PASSWORD, signIn, signOut, signUp, uniqueEmail, expect, test } from './helpers';

test('an account from sign-up to deletion', async ({ page }) => {
  // Many steps, each hashing a password; the first test also meets a cold server.
  test.setTimeout(60_000);
  const email = uniqueEmail('journey');
  await signUp(page, email);
  await expect(page.getByRole('heading', { name: 'Your projects' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'No projects yet' })).toBeVisible();
  await expect(page.getByRole('link', { name: `${CREDITS} of ${CREDITS} credits left this month` })).toBeVisible();

  await signOut(page);
  await gotoHydrated(page, '/login');
  await signIn(page, email);
  await expect(page).toHaveURL(/\/projects$/);

  await gotoHydrated(page, '/settings');
  await expect(page.getByText(`You have used 0 of ${CREDITS} credits this month.`)).toBeVisible();
  const newPassword = 'an even better passphrase';
  await page.getByLabel('Current password').fill(PASSWORD);
  await page.getByLabel('New password').fill(newPassword);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByText('Your password was changed.')).toBeVisible();

  await signOut(page);
  await gotoHydrated(page, '/login');
  await signIn(page, email, PASSWORD);
  await expect(page.getByRole('alert')).toContainText("don't match an account");
  await signIn(page, email, newPassword);
  await expect(page).toHaveURL(/\/projects$/);

  await gotoHydrated(page, '/settings');
  await page.getByLabel('Type your email address to confirm').fill(email);
  await page.getByRole('button', { name: 'Delete account' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole('link', { name: 'Sign in' })).toBeVisible();

  await gotoHydrated(page, '/login');
  await signIn(page, email, newPassword);
  await expect(page.getByRole('alert')).toContainText("don't match an account");
});

test('a wrong password gets a clear message', async ({ page }) => {
  const email = uniqueEmail('wrong');
  await signUp(page, email);
  await signOut(page);
  await gotoHydrated(page, '/login');
  await signIn(page, email, 'not the password at all');
  await expect(page.getByRole('alert')).toHaveText(
    "That email and password don't match an account. Check them and try again.",
  );
  await expect(page).toHaveURL(/\/login/);
});

test('five failed sign-ins lock the account for a while', async ({ page }) => {
  const email = uniqueEmail('throttle');
  await signUp(page, email);
  await signOut(page);
  await gotoHydrated(page, '/login');
  for (let attempt = 1; attempt <= 5; attempt++) {
    await signIn(page, email, `wrong guess ${attempt}`);
    await expect(page.getByRole('alert')).toContainText("don't match an account");
  }
  await signIn(page, email, PASSWORD);
  await expect(page.getByRole('alert')).toHaveText('Too many attempts. Try again in 15 minutes.');
  await expect(page).toHaveURL(/\/login/);
});

test('a signed-out visitor is sent to sign in, then back', async ({ page }) => {
  const email = uniqueEmail('next');
  await signUp(page, email);
  await signOut(page);

  await page.goto('/settings');
  await expect(page).toHaveURL(/\/login\?next=(\/|%2F)settings$/);
  await signIn(page, email);
  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.getByRole('heading', { name: 'Settings' })).toBeVisible();
});

test('sign-up explains what is wrong with the input', async ({ page }) => {
  await gotoHydrated(page, '/signup');
  await page.getByLabel('Email').fill(uniqueEmail('weak'));
  // The browser's own checks would stop a short password first; bypass them
  // to see the server's message.
  await page.locator('form').evaluate((form) => form.setAttribute('novalidate', ''));
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page.getByRole('alert')).toHaveText('Use at least 10 characters for your password.');
});

test('a form on its way shows it, and a second click does not send it again', async ({ page }) => {
  let posts = 0;
  await page.route('**/api/signup', async (route) => {
    posts += 1;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await route.continue();
  });
  await gotoHydrated(page, '/signup');
  await page.getByLabel('Email').fill(uniqueEmail('busy'));
  await page.getByLabel('Password').fill(PASSWORD);
  // Playwright waits for the page a click leads to before looking again, so
  // the page itself notes the form's state when it is sent, and clicks a
  // second time while the answer is held.
  await page.evaluate(() => {
    const form = document.querySelector<HTMLFormElement>('form[action="/api/signup"]');
    window.addEventListener('submit', () => {
      sessionStorage.setItem('busy', form?.getAttribute('aria-busy') ?? 'no');
      setTimeout(() => form?.querySelector<HTMLButtonElement>('[type="submit"]')?.click(), 100);
    }, { once: true });
  });
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page).toHaveURL(/\/projects$/);
  expect(await page.evaluate(() => sessionStorage.getItem('busy'))).toBe('true');
  expect(posts).toBe(1);
});
